//! Kernel-thread context switches: callee-saved registers on the old stack,
//! stack pointer swap, and the trampoline new threads start in.
use core::arch::global_asm;

unsafe extern "C" {
    /// Saves callee-saved registers on the current stack, stores the stack
    /// pointer at `*prev_rsp`, loads `next_rsp` and restores the registers
    /// saved there.
    pub fn switch_context(prev_rsp: *mut u64, next_rsp: u64);
    fn thread_trampoline();
}

global_asm!(
    ".global switch_context",
    "switch_context:",
    "push rbp",
    "push rbx",
    "push r12",
    "push r13",
    "push r14",
    "push r15",
    "mov [rdi], rsp",
    "mov rsp, rsi",
    "pop r15",
    "pop r14",
    "pop r13",
    "pop r12",
    "pop rbx",
    "pop rbp",
    "ret",
    ".global thread_trampoline",
    "thread_trampoline:",
    "mov rdi, r14",
    "xor ebp, ebp",
    "call r15",
    "ud2",
);

/// Prepares a new thread's stack (whose top is `stack_top`) so that switching
/// to it calls `entry(arg)`; returns the initial saved stack pointer.
///
/// # Safety
/// `stack_top` must be the 16-byte-aligned top of writable memory with at least
/// 64 bytes below it that nothing else uses.
pub unsafe fn init_stack(stack_top: u64, entry: extern "C" fn(usize) -> !, arg: usize) -> u64 {
    // Layout popped by switch_context: r15, r14, r13, r12, rbx, rbp, return address.
    let frame = [
        entry as *const () as u64,
        arg as u64,
        0,
        0,
        0,
        0,
        thread_trampoline as *const () as u64,
    ];
    let rsp = stack_top - (frame.len() as u64) * 8;
    // SAFETY: the caller guarantees the memory below stack_top is ours.
    unsafe { core::ptr::copy_nonoverlapping(frame.as_ptr(), rsp as *mut u64, frame.len()) };
    rsp
}
