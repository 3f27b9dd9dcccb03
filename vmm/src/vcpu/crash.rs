//! What the run loop reports when the guest cannot go on: the vCPU's
//! registers, the stack at `rsp` and the frame-pointer backtrace, and the
//! description of a `KVM_EXIT_INTERNAL_ERROR`.

use kvm_ioctls::VcpuFd;

use super::Machine;
use crate::memory::GuestMem;

/// Guest-physical address of a kernel virtual address (kernel image or direct
/// map), without walking the guest's page tables.
pub(super) fn kernel_virt_to_phys(va: u64) -> Option<u64> {
    use abi::layout::{DIRECT_MAP_BASE, KERNEL_VIRT_BASE};
    if va >= KERNEL_VIRT_BASE {
        Some(va - KERNEL_VIRT_BASE)
    } else if (DIRECT_MAP_BASE..DIRECT_MAP_BASE + (1 << 39)).contains(&va) {
        Some(va - DIRECT_MAP_BASE)
    } else {
        None
    }
}

/// Return addresses along the guest's frame-pointer chain from `rbp` (kernel
/// stacks only; stops at the first frame it cannot read).
pub(super) fn frame_chain(mem: &GuestMem, mut rbp: u64) -> Vec<u64> {
    let mut frames = Vec::new();
    while frames.len() < abi::device::PANIC_FRAMES_MAX && rbp != 0 && rbp.is_multiple_of(8) {
        let Some([next, ret]) =
            kernel_virt_to_phys(rbp).and_then(|pa| crate::memory::read_u64s::<2>(mem, pa))
        else {
            break;
        };
        if ret == 0 {
            break;
        }
        frames.push(ret);
        if next <= rbp {
            break;
        }
        rbp = next;
    }
    frames
}

/// Describes the `KVM_EXIT_INTERNAL_ERROR` the vCPU just reported.
pub(super) fn internal_error(vcpu: &mut VcpuFd) -> String {
    // SAFETY: after KVM_EXIT_INTERNAL_ERROR, KVM fills the `internal` member of
    // the exit-information union; it is plain integers.
    let info = unsafe { vcpu.get_kvm_run().__bindgen_anon_1.internal };
    let kind = match info.suberror {
        1 => "instruction emulation failed",
        2 => "exception while emulating",
        3 => "cannot deliver an event",
        4 => "unexpected exit reason",
        _ => "unknown",
    };
    let n = (info.ndata as usize).min(info.data.len());
    let data: Vec<String> = info.data[..n].iter().map(|d| format!("{d:#x}")).collect();
    let mut s = format!(
        "KVM internal error (KVM_EXIT_INTERNAL_ERROR): {kind} (suberror {})",
        info.suberror
    );
    if info.suberror == 1 {
        s += "; on PVM hosts ring-0 code is emulated and some instructions (SSE: ldmxcsr, stmxcsr, xorps; xsave) are not";
    }
    if !data.is_empty() {
        s += &format!("; data {}", data.join(" "));
    }
    s
}

/// Whether the `KVM_EXIT_INTERNAL_ERROR` just returned is an instruction
/// KVM could not emulate.
pub(super) fn emulation_failed(vcpu: &mut VcpuFd) -> bool {
    // SAFETY: as in `internal_error`.
    let info = unsafe { vcpu.get_kvm_run().__bindgen_anon_1.internal };
    info.suberror == kvm_bindings::KVM_INTERNAL_ERROR_EMULATION
}

impl Machine<'_> {
    /// `what` plus the vCPU registers, for a guest that cannot go on.
    pub(super) fn crash_report(&self, vcpu: &VcpuFd, what: &str) -> String {
        let mut s = format!("faultline: {what}\n");
        match (vcpu.get_regs(), vcpu.get_sregs()) {
            (Ok(r), Ok(sr)) => {
                s += &format!("  rip {}\n", self.symbols.get().describe(r.rip));
                s += &format!(
                    "  rsp {:#x} rbp {:#x} rflags {:#x} cs {:#x}\n",
                    r.rsp, r.rbp, r.rflags, sr.cs.selector
                );
                s += &format!(
                    "  cr0 {:#x} cr2 {:#x} cr3 {:#x} cr4 {:#x} efer {:#x}\n",
                    sr.cr0, sr.cr2, sr.cr3, sr.cr4, sr.efer
                );
                s += &format!(
                    "  rax {:#x} rbx {:#x} rcx {:#x} rdx {:#x} rsi {:#x} rdi {:#x}\n",
                    r.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi
                );
                if let Some(words) = kernel_virt_to_phys(r.rsp)
                    .and_then(|pa| crate::memory::read_u64s::<8>(self.mem, pa))
                {
                    let words: Vec<String> = words.iter().map(|w| format!("{w:#x}")).collect();
                    s += &format!("  stack at rsp: {}\n", words.join(" "));
                }
                let frames = frame_chain(self.mem, r.rbp);
                if !frames.is_empty() {
                    s += "  frame-pointer backtrace:\n";
                    for (i, ret) in frames.iter().enumerate() {
                        s += &format!("    #{i} {}\n", self.symbols.get().describe_return(*ret));
                    }
                }
            }
            (Err(e), _) | (_, Err(e)) => s += &format!("  (registers unavailable: {e})\n"),
        }
        s
    }
}
