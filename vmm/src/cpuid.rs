//! The guest's CPUID: what KVM supports, plus x2APIC, TSC-deadline and the
//! hypervisor bit in leaf 1 (the kernel's LAPIC timer needs the first two).

use anyhow::{Context, Result};
use kvm_bindings::{CpuId, KVM_MAX_CPUID_ENTRIES};
use kvm_ioctls::{Kvm, VcpuFd};

/// Leaf 1 ECX: x2APIC.
const ECX_X2APIC: u32 = 1 << 21;
/// Leaf 1 ECX: TSC-deadline timer.
const ECX_TSC_DEADLINE: u32 = 1 << 24;
/// Leaf 1 ECX: running under a hypervisor.
const ECX_HYPERVISOR: u32 = 1 << 31;

/// Adjusts KVM's supported CPUID for the guest.
pub fn adjust(cpuid: &mut CpuId) {
    for entry in cpuid.as_mut_slice() {
        if entry.function == 1 {
            entry.ecx |= ECX_X2APIC | ECX_TSC_DEADLINE | ECX_HYPERVISOR;
        }
    }
}

/// Sets the vCPU's CPUID.
pub fn setup(kvm: &Kvm, vcpu: &VcpuFd) -> Result<()> {
    let mut cpuid = kvm
        .get_supported_cpuid(KVM_MAX_CPUID_ENTRIES)
        .context("KVM_GET_SUPPORTED_CPUID")?;
    adjust(&mut cpuid);
    vcpu.set_cpuid2(&cpuid).context("KVM_SET_CPUID2")
}

#[cfg(test)]
mod tests {
    use super::*;
    use kvm_bindings::kvm_cpuid_entry2;

    #[test]
    fn leaf_one_gets_the_bits() {
        let mut cpuid = CpuId::from_entries(&[
            kvm_cpuid_entry2 {
                function: 0,
                ..Default::default()
            },
            kvm_cpuid_entry2 {
                function: 1,
                ecx: 1,
                ..Default::default()
            },
        ])
        .unwrap();
        adjust(&mut cpuid);
        assert_eq!(cpuid.as_slice()[0].ecx, 0);
        assert_eq!(
            cpuid.as_slice()[1].ecx,
            1 | ECX_X2APIC | ECX_TSC_DEADLINE | ECX_HYPERVISOR
        );
    }
}
