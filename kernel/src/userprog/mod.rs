//! User programs (Pintos "userprog"): processes, the ELF loader, argument
//! passing, system calls, file descriptors and checked user-memory access.
pub mod args;
pub mod elf;
pub mod fdtable;
pub mod loader;
pub mod process;
pub mod syscall;
pub mod uaccess;

use crate::arch::trap::{Trap, TrapFrame};
use core::sync::atomic::{AtomicU64, Ordering};

pub use process::run_initial;

/// System calls handled and TSC cycles spent handling them (for `SYS_KSTATS`).
static SYSCALLS: AtomicU64 = AtomicU64::new(0);
static SYSCALL_CYCLES: AtomicU64 = AtomicU64::new(0);

/// (system calls handled, cycles spent in them).
pub fn syscall_counters() -> (u64, u64) {
    (
        SYSCALLS.load(Ordering::Relaxed),
        SYSCALL_CYCLES.load(Ordering::Relaxed),
    )
}

/// Handles a decoded trap (called by `arch::trap`).
pub fn handle_trap(trap: Trap, frame: &mut TrapFrame) {
    if frame.from_user() {
        process::exit_if_killed();
    }
    handle(trap, frame);
    if frame.from_user() {
        process::exit_if_killed();
    }
}

fn handle(trap: Trap, frame: &mut TrapFrame) {
    match trap {
        Trap::Syscall => {
            let start = crate::arch::rdtsc();
            syscall::dispatch(frame);
            SYSCALL_CYCLES.fetch_add(crate::arch::rdtsc() - start, Ordering::Relaxed);
            SYSCALLS.fetch_add(1, Ordering::Relaxed);
        }
        Trap::GetPhysAddr => {
            let space = process::current().space();
            frame.rax = space.map_or(0, |space| crate::vm::phys_addr(space, frame.rax));
        }
        Trap::Timer | Trap::Spurious => {}
        Trap::PageFault {
            addr,
            write,
            fetch,
            user: true,
            entry_tsc,
            ..
        } => {
            let access = crate::vm::fault::Access { write, fetch };
            let result = process::current()
                .space()
                .ok_or(crate::vm::fault::Invalid::NoPage)
                .and_then(|space| {
                    crate::vm::handle_fault(space, addr, access, frame.rsp, entry_tsc)
                });
            // An invalid access ends the process; for lack of memory the VM
            // has printed the out-of-memory message already.
            if result.is_err() {
                process::exit(-1)
            }
        }
        // The trap benchmark's breakpoint: return at once (rip is already
        // past the `int3`).
        Trap::Exception { vector: 3 }
            if frame.from_user() && process::current().trap_bench.load(Ordering::Relaxed) => {}
        Trap::Exception { .. } if frame.from_user() => process::exit(-1),
        Trap::PageFault {
            addr,
            write,
            present,
            user,
            ..
        } => {
            crate::panic::set_fault_rip(frame.rip);
            panic!(
                "kernel page fault at {addr:#x} ({} {}, {} mode), rip={:#x} rsp={:#x} error={:#x}",
                if present { "protection" } else { "not-present" },
                if write { "write" } else { "read" },
                if user { "user" } else { "kernel" },
                frame.rip,
                frame.rsp,
                frame.error_code
            );
        }
        Trap::Exception { vector } => {
            crate::panic::set_fault_rip(frame.rip);
            panic!(
                "kernel exception {vector} at rip={:#x} rsp={:#x} error={:#x}",
                frame.rip, frame.rsp, frame.error_code
            );
        }
    }
}
