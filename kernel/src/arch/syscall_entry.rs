//! The `syscall` instruction's entry point (LSTAR).
//!
//! On real VT-x/AMD-V hardware `syscall` arrives here in ring 0 with the user
//! stack; the entry saves it in the per-CPU block (the kernel is single-CPU,
//! so the block is a plain static reached RIP-relative and GS is never used),
//! switches to the thread's kernel stack, builds a [`super::trap::TrapFrame`]
//! with vector [`super::trap::VECTOR_SYSCALL`] and joins the common trap path.
//!
//! In the emulated native mode of PVM hosts, `syscall` jumps here *without*
//! raising privilege: fetching from the supervisor-only page faults (#PF with
//! `rip == cr2 == LSTAR`), and were the page user-executable, the first
//! instruction (`cli`, privileged; harmless in ring 0 where SFMASK already
//! cleared IF) would raise #GP with `rip == LSTAR`. `trap_dispatch` recognises
//! both signatures.
//!
//! In PVM guest mode `syscall` arrives at LSTAR in ring 0, and `cli` would trap,
//! so that mode has its own entry without it.
use super::cpu::wrmsr;
use abi::layout::gdt::{KERNEL_CS, USER_CS, USER_CS32, USER_DS};

const MSR_STAR: u32 = 0xc000_0081;
const MSR_LSTAR: u32 = 0xc000_0082;
const MSR_SFMASK: u32 = 0xc000_0084;

/// Per-CPU block of the syscall entry.
#[repr(C)]
pub struct PerCpu {
    /// Top of the running thread's kernel stack.
    pub kernel_stack: u64,
    /// Scratch slot for the user stack pointer.
    pub user_rsp: u64,
}

/// The one CPU's block; the entry assembly reaches it by name.
pub static mut PER_CPU: PerCpu = PerCpu {
    kernel_stack: 0,
    user_rsp: 0,
};

/// The address `syscall` jumps to.
pub fn entry_address() -> u64 {
    if super::mode() == super::Mode::Pvm {
        pvm_syscall_entry as *const () as u64
    } else {
        syscall_entry as *const () as u64
    }
}

/// Programs STAR, LSTAR and SFMASK.
pub fn init() {
    wrmsr(
        MSR_STAR,
        ((USER_CS32 as u64) << 48) | ((KERNEL_CS as u64) << 32),
    );
    wrmsr(MSR_LSTAR, entry_address());
    // Clear IF, TF, DF, IOPL, AC and NT on entry.
    wrmsr(MSR_SFMASK, 0x47700);
}

/// Records the kernel stack the next `syscall` switches to.
pub fn set_kernel_stack(top: u64) {
    let per_cpu: *mut PerCpu = &raw mut PER_CPU;
    // SAFETY: single CPU; written during a context switch with interrupts off,
    // read only by the syscall entry of the thread that owns the stack, so no
    // other access overlaps this write.
    unsafe { (*per_cpu).kernel_stack = top };
}

unsafe extern "C" {
    fn syscall_entry();
    fn pvm_syscall_entry();
}

core::arch::global_asm!(
    ".pushsection .text.trap, \"ax\"",
    ".global syscall_entry",
    "syscall_entry:",
    "cli",
    ".global pvm_syscall_entry",
    "pvm_syscall_entry:",
    "mov [rip + {per_cpu} + 8], rsp",
    "mov rsp, [rip + {per_cpu}]",
    "push {user_ds}",
    "push qword ptr [rip + {per_cpu} + 8]",
    "push r11",
    "push {user_cs}",
    "push rcx",
    "push 0",
    "push {vector}",
    "jmp trap_common",
    // Up to here rcx holds the user rip and rbp the user rbp (the VMM's
    // sampler relies on it to name the interrupted code).
    ".global syscall_entry_end",
    "syscall_entry_end:",
    ".popsection",
    per_cpu = sym PER_CPU,
    user_ds = const USER_DS as u64,
    user_cs = const USER_CS as u64,
    vector = const super::trap::VECTOR_SYSCALL,
);
