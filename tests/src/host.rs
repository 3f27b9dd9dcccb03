//! The CPU mode the suite runs in and what this host makes of it.
//!
//! `FAULTLINE_CPU_MODE` (set by `cargo xtask test`) is the `--cpu-mode` every
//! VM gets: `auto` (the default), `native` or `pvm`. What it means depends on
//! the host, which `faultline --host-info` reports (once per test process):
//! on a PVM host `auto` runs the PVM guest mode and `native` is emulated (every
//! ring-0 instruction costs about a microsecond); on a VT-x/AMD-V host both
//! run the native mode in hardware.

use std::process::Command;
use std::sync::OnceLock;

use crate::paths::vmm_bin;

/// The kernel's CPU mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CpuMode {
    /// Ordinary x86 supervisor mode (hardware on VT-x/AMD-V, emulated on PVM).
    Native,
    /// The PVM guest mode.
    Pvm,
}

/// The facts of `faultline --host-info` the suite uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HostInfo {
    /// `/dev/kvm` is PVM: the native mode is emulated, `auto` runs `pvm`.
    pub pvm: bool,
}

impl HostInfo {
    /// Parses the `key=value` lines of `faultline --host-info`.
    pub fn parse(text: &str) -> Result<HostInfo, String> {
        let pvm = text
            .lines()
            .find_map(|line| line.trim().strip_prefix("pvm="))
            .ok_or_else(|| format!("no `pvm=` line in `faultline --host-info` output:\n{text}"))?;
        match pvm {
            "yes" => Ok(HostInfo { pvm: true }),
            "no" => Ok(HostInfo { pvm: false }),
            other => Err(format!("`faultline --host-info` says pvm={other}")),
        }
    }
}

/// This host's facts, asked of `faultline --host-info` once per process.
/// Panics when faultline cannot tell (no usable `/dev/kvm`): no guest test can
/// run then.
pub fn host() -> HostInfo {
    static HOST: OnceLock<Result<HostInfo, String>> = OnceLock::new();
    let facts = HOST.get_or_init(|| {
        let bin = vmm_bin();
        let out = Command::new(&bin)
            .arg("--host-info")
            .output()
            .map_err(|e| format!("cannot run {} --host-info: {e}", bin.display()))?;
        if !out.status.success() {
            return Err(format!(
                "{} --host-info failed ({}): {}",
                bin.display(),
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        HostInfo::parse(&String::from_utf8_lossy(&out.stdout))
    });
    match facts {
        Ok(facts) => *facts,
        Err(e) => panic!("{e}"),
    }
}

/// The `--cpu-mode` the suite asks for (`FAULTLINE_CPU_MODE`, else `auto`).
pub fn requested_mode() -> String {
    std::env::var("FAULTLINE_CPU_MODE")
        .ok()
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| "auto".into())
}

/// The CPU mode the kernel runs in: the requested mode, with `auto` resolved
/// the way the VMM resolves it on this host.
pub fn cpu_mode() -> CpuMode {
    match requested_mode().as_str() {
        "native" => CpuMode::Native,
        "pvm" => CpuMode::Pvm,
        _ if host().pvm => CpuMode::Pvm,
        _ => CpuMode::Native,
    }
}

/// Whether the kernel runs in the native mode on a PVM host, where every
/// ring-0 instruction is emulated (about 1000 times slower than in hardware).
pub fn native_is_emulated() -> bool {
    // `auto` never runs the emulated native mode (it picks `pvm` on PVM
    // hosts), so only an explicit `native` needs the host's answer.
    requested_mode() == "native" && host().pvm
}

#[cfg(test)]
mod tests {
    use super::HostInfo;

    #[test]
    fn host_info_parses() {
        let text = "pvm=yes\nauto_cpu_mode=pvm\nnative_cpu_mode=emulated\n";
        assert_eq!(HostInfo::parse(text), Ok(HostInfo { pvm: true }));
        assert_eq!(HostInfo::parse("pvm=no\n"), Ok(HostInfo { pvm: false }));
        assert!(HostInfo::parse("pvm=maybe\n").is_err());
        assert!(HostInfo::parse("").is_err());
    }
}
