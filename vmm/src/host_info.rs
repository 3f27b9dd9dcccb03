//! `faultline --host-info`: facts about this host's KVM that decide how the
//! guest runs here, printed as `key=value` lines for scripts and test runners.
//!
//! ```text
//! pvm=yes
//! auto_cpu_mode=pvm
//! native_cpu_mode=emulated
//! ```
//!
//! - `pvm`: whether `/dev/kvm` is PVM, a software hypervisor (`yes`/`no`);
//! - `auto_cpu_mode`: the mode `--cpu-mode auto` picks (`pvm` or `native`);
//! - `native_cpu_mode`: how `--cpu-mode native` runs the kernel's ring 0:
//!   `emulated` (PVM emulates every ring-0 instruction, about a microsecond
//!   each) or `hardware` (VT-x/AMD-V).
//!
//! The guest suite reads these to decide which tests are too slow to run here
//! (`tests/src/host.rs`).

use anyhow::{Context, Result};
use kvm_ioctls::Kvm;

/// The facts, as [`report`] prints them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HostInfo {
    /// `/dev/kvm` is PVM.
    pub pvm: bool,
}

impl HostInfo {
    /// Probes `/dev/kvm` (on a throwaway VM). Fails when KVM cannot be opened
    /// or the probe VM cannot be created.
    pub fn probe() -> Result<HostInfo> {
        let kvm = Kvm::new().context("cannot open /dev/kvm")?;
        let pvm = crate::pvm::detect_pvm(&kvm)?;
        Ok(HostInfo { pvm })
    }

    /// The `key=value` lines, each ending in a newline.
    pub fn render(&self) -> String {
        let (pvm, auto, native) = if self.pvm {
            ("yes", "pvm", "emulated")
        } else {
            ("no", "native", "hardware")
        };
        format!("pvm={pvm}\nauto_cpu_mode={auto}\nnative_cpu_mode={native}\n")
    }
}

/// Probes the host and returns the text `faultline --host-info` prints.
/// Fails like [`HostInfo::probe`].
pub fn report() -> Result<String> {
    Ok(HostInfo::probe()?.render())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_key_value_lines() {
        assert_eq!(
            HostInfo { pvm: true }.render(),
            "pvm=yes\nauto_cpu_mode=pvm\nnative_cpu_mode=emulated\n"
        );
        assert_eq!(
            HostInfo { pvm: false }.render(),
            "pvm=no\nauto_cpu_mode=native\nnative_cpu_mode=hardware\n"
        );
    }
}
