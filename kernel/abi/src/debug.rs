//! The debugger port: how the kernel hands breakpoint (#BP) and debug (#DB)
//! exceptions to the VMM's gdb stub (`faultline --gdb`).
//!
//! On PVM hosts KVM cannot trap a guest's `int3` or single-step it for the
//! VMM in the PVM guest mode (docs/DEBUGGING.md), so the kernel cooperates:
//! when [`crate::boot::BootInfo::debugger`] is nonzero,
//!
//! - once its IDT is loaded, the kernel writes [`READY`] to [`DEBUG_PORT`]
//!   (a 32-bit `out`): from then on its #BP and #DB handlers report;
//! - its #BP and #DB entries save a trap frame (the layout of
//!   [`crate::layout::trap_frame`]) and execute a 32-bit `in` from
//!   [`DEBUG_PORT`] with `rdi` = the frame's kernel virtual address and `rsi`
//!   = the vector (1 or 3), before anything else runs (no Rust code: a
//!   breakpoint on the trap path cannot recurse);
//! - the VMM answers [`HANDLED`] when the event is the debugger's (a
//!   breakpoint it inserted, a step it asked for): the kernel then returns to
//!   the frame, which the debugger may have changed (registers, `rip`, the
//!   trap flag); it answers [`NOT_MINE`] otherwise, and the kernel handles the
//!   exception as it would without a debugger.
//!
//! The VMM sets the trap flag in the frame's `rflags` to single-step the
//! interrupted code; the kernel returns with `iretq` whenever that flag is set,
//! so the step traps after exactly one instruction.

/// The debugger port (32-bit `out` of [`READY`], 32-bit `in` of a verdict).
pub const DEBUG_PORT: u16 = 0x506;

/// Written once the kernel's #BP and #DB handlers report to the debugger.
pub const READY: u32 = 1;

/// The debugger's answer: not its event; handle the exception as usual.
pub const NOT_MINE: u32 = 0;
/// The debugger's answer: its event; return to the (possibly changed) frame.
pub const HANDLED: u32 = 1;

/// The exceptions that reach the debugger: #DB (single step, hardware
/// breakpoints).
pub const VECTOR_DEBUG: u64 = 1;
/// The exceptions that reach the debugger: #BP (`int3`, software breakpoints).
pub const VECTOR_BREAKPOINT: u64 = 3;
