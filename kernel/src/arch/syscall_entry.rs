//! The `syscall` instruction's entry point (LSTAR).
//!
//! On real VT-x/AMD-V hardware `syscall` arrives here in ring 0 with the user
//! stack; the entry switches to the kernel stack through the per-CPU block in
//! GS, builds a [`super::trap::TrapFrame`] with vector
//! [`super::trap::VECTOR_SYSCALL`] and joins the common trap path.
//!
//! In the emulated native mode of PVM hosts, `syscall` jumps here *without*
//! raising privilege, so the first instruction (`swapgs`, privileged) raises #GP
//! with `rip == LSTAR`; `trap_dispatch` recognises that signature.
//!
//! In PVM guest mode `syscall` arrives at LSTAR in ring 0 with the user stack
//! but GS already the kernel's, so its entry has no `swapgs`.
use super::cpu::wrmsr;
use abi::layout::gdt::{KERNEL_CS, USER_CS32, USER_DS, USER_CS};

const MSR_STAR: u32 = 0xc000_0081;
const MSR_LSTAR: u32 = 0xc000_0082;
const MSR_SFMASK: u32 = 0xc000_0084;
const MSR_GS_BASE: u32 = 0xc000_0101;
const MSR_KERNEL_GS_BASE: u32 = 0xc000_0102;

/// Per-CPU block reached through GS in the syscall entry.
#[repr(C)]
pub struct PerCpu {
    /// Top of the running thread's kernel stack.
    pub kernel_stack: u64,
    /// Scratch slot for the user stack pointer.
    pub user_rsp: u64,
}

pub static mut PER_CPU: PerCpu = PerCpu { kernel_stack: 0, user_rsp: 0 };

/// The address `syscall` jumps to.
pub fn entry_address() -> u64 {
    if super::mode() == super::Mode::Pvm {
        pvm_syscall_entry as *const () as u64
    } else {
        syscall_entry as *const () as u64
    }
}

/// Programs STAR, LSTAR, SFMASK and the GS bases.
pub fn init() {
    wrmsr(MSR_STAR, ((USER_CS32 as u64) << 48) | ((KERNEL_CS as u64) << 32));
    wrmsr(MSR_LSTAR, entry_address());
    // Clear IF, TF, DF, IOPL, AC and NT on entry.
    wrmsr(MSR_SFMASK, 0x47700);
    let per_cpu = (&raw const PER_CPU) as u64;
    if super::mode() == super::Mode::Pvm {
        // The hypervisor swaps GS on every user/kernel transition.
        wrmsr(MSR_GS_BASE, per_cpu);
        wrmsr(MSR_KERNEL_GS_BASE, 0);
    } else {
        wrmsr(MSR_KERNEL_GS_BASE, per_cpu);
    }
}

/// Records the kernel stack the next `syscall` switches to.
pub fn set_kernel_stack(top: u64) {
    // SAFETY: single CPU; written during a context switch with interrupts off,
    // read only by the syscall entry of the thread that owns the stack.
    unsafe { (*(&raw mut PER_CPU)).kernel_stack = top };
}

unsafe extern "C" {
    fn syscall_entry();
    fn pvm_syscall_entry();
}

core::arch::global_asm!(
    ".global syscall_entry",
    "syscall_entry:",
    "swapgs",
    "mov gs:[8], rsp",
    "mov rsp, gs:[0]",
    "push {user_ds}",
    "push qword ptr gs:[8]",
    "push r11",
    "push {user_cs}",
    "push rcx",
    "swapgs",
    "push 0",
    "push 0x100",
    "jmp trap_common",
    ".global pvm_syscall_entry",
    "pvm_syscall_entry:",
    "mov gs:[8], rsp",
    "mov rsp, gs:[0]",
    "push {user_ds}",
    "push qword ptr gs:[8]",
    "push r11",
    "push {user_cs}",
    "push rcx",
    "push 0",
    "push 0x100",
    "jmp trap_common",
    user_ds = const USER_DS as u64,
    user_cs = const USER_CS as u64,
);
