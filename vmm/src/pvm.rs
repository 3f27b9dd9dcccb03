//! Detection of a PVM host, and the registration of the VIF page that puts a
//! vCPU in the PVM guest mode (docs/DESIGN.md, "The PVM guest interface"): on
//! such hosts KVM answers a read of MSR 0x4b564d11 with "PVM" (0x4d5650).
//! [`detect_pvm`] probes a throwaway VM (for `--host-info`); a run probes its
//! own vCPU ([`detect_pvm_on`]) before it registers anything on it.

use anyhow::{Context, Result, bail};
use kvm_bindings::{Msrs, kvm_msr_entry};
use kvm_ioctls::{Kvm, VcpuFd};

/// MSR holding the PVM signature.
pub const MSR_PVM_SIGNATURE: u32 = 0x4b56_4d11;
/// Its value on PVM hosts ("PVM").
pub const PVM_SIGNATURE: u64 = 0x4d_5650;

/// MSR that registers the per-vCPU VIF page (and turns on PVM guest mode).
pub const MSR_PVM_VIF: u32 = 0x4b56_4d10;
/// Guest features turned on with the VIF page: the user/kernel page-table pair,
/// GS swapped on entry, CR2 in the VIF page and the two fast user returns.
pub const PVM_FEATURES: u64 = 0x7f;
/// Set only in the host-side write, so the guest's first instruction already
/// runs in PVM guest mode.
pub const PVM_HOST_REGISTER: u64 = 0x400;

/// Registers the VIF page at guest-physical `vif_page` on `vcpu`, which puts
/// it in PVM guest mode from its first instruction.
pub fn register_vif(vcpu: &VcpuFd, vif_page: u64) -> Result<()> {
    let msrs = Msrs::from_entries(&[kvm_msr_entry {
        index: MSR_PVM_VIF,
        data: vif_page | PVM_FEATURES | PVM_HOST_REGISTER,
        ..Default::default()
    }])
    .context("building the MSR list")?;
    let written = vcpu
        .set_msrs(&msrs)
        .context("KVM_SET_MSRS (PVM VIF page)")?;
    if written != 1 {
        bail!("the host refused the PVM VIF-page registration (MSR {MSR_PVM_VIF:#x})");
    }
    Ok(())
}

/// Whether the host runs KVM through PVM (probed on a throwaway VM).
pub fn detect_pvm(kvm: &Kvm) -> Result<bool> {
    let vm = kvm.create_vm().context("creating a probe VM")?;
    let vcpu = vm.create_vcpu(0).context("creating a probe vCPU")?;
    detect_pvm_on(&vcpu)
}

/// Whether the host runs KVM through PVM, probed on `vcpu` (reading the
/// signature MSR changes nothing, so the VM's own vCPU will do).
pub fn detect_pvm_on(vcpu: &VcpuFd) -> Result<bool> {
    let mut msrs = Msrs::from_entries(&[kvm_msr_entry {
        index: MSR_PVM_SIGNATURE,
        ..Default::default()
    }])
    .context("building the MSR list")?;
    // KVM_GET_MSRS stops at the first MSR it does not know and reports how many it read.
    let read = vcpu.get_msrs(&mut msrs).unwrap_or(0);
    Ok(read == 1 && msrs.as_slice()[0].data == PVM_SIGNATURE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detection_runs_and_is_stable() {
        let Ok(kvm) = Kvm::new() else {
            eprintln!("no /dev/kvm: skipped");
            return;
        };
        let first = detect_pvm(&kvm).unwrap();
        assert_eq!(detect_pvm(&kvm).unwrap(), first);
        // The machines this project targets are PVM hosts (docs/DESIGN.md,
        // "The PVM guest interface"). Report rather than assume elsewhere.
        eprintln!("PVM host: {first}");
    }
}
