//! Debugger support (`faultline --gdb`, `abi::debug`): the #BP and #DB entry
//! that hands the exception to the VMM's gdb stub before the kernel sees it.
//!
//! The IDT sends vectors 1 and 3 to `debug_trap` instead of `trap_common`. It
//! saves the same [`super::trap::TrapFrame`] and, when a debugger may be
//! attached, asks the VMM with an `in` from the debugger port (`rdi` = the
//! frame, `rsi` = the vector). If the VMM claims the event, the kernel returns
//! straight to the frame, which the debugger may have changed; otherwise it
//! continues into `trap_common`'s dispatch as if nothing had happened. The
//! path is assembly only, so a breakpoint in any Rust function (even
//! `trap_dispatch`) cannot recurse through it.
use abi::debug::{DEBUG_PORT, READY};
use abi::layout::trap_frame as tf;
use core::sync::atomic::{AtomicU8, Ordering};

/// Nonzero when the VMM serves the debugger port (read by `debug_trap`).
#[unsafe(no_mangle)]
static DEBUGGER: AtomicU8 = AtomicU8::new(0);

/// Turns the debugger reports on if the VMM asked for them (`debugger` in the
/// boot information) and tells the VMM they work; call once the IDT is loaded.
pub fn init(debugger: bool) {
    if debugger {
        DEBUGGER.store(1, Ordering::Relaxed);
        super::cpu::outl(DEBUG_PORT, READY);
    }
}

core::arch::global_asm!(
    ".pushsection .text.trap, \"ax\"",
    ".global debug_trap",
    "debug_trap:",
    super::trap::push_gprs!(),
    "cmp byte ptr [rip + DEBUGGER], 0",
    "je 2f",
    "mov rdi, rsp",
    "mov rsi, [rsp + {vector}]",
    "mov dx, {port}",
    "in eax, dx",
    "test eax, eax",
    "jnz trap_return",
    "2:",
    "jmp trap_saved",
    ".popsection",
    vector = const tf::VECTOR,
    port = const DEBUG_PORT,
);
