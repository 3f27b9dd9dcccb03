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
    match trap {
        Trap::Syscall => {
            let start = crate::arch::rdtsc();
            syscall::dispatch(frame);
            SYSCALL_CYCLES.fetch_add(crate::arch::rdtsc() - start, Ordering::Relaxed);
            SYSCALLS.fetch_add(1, Ordering::Relaxed);
        }
        Trap::GetPhysAddr => {
            let va = frame.rax;
            let pa = process::current()
                .aspace
                .lock()
                .as_ref()
                .and_then(|a| a.lookup(va))
                .map_or(0, |m| m.pa);
            frame.rax = pa;
        }
        Trap::Timer | Trap::Spurious => {}
        Trap::PageFault {
            addr,
            present: false,
            user: true,
            ..
        } if crate::mm::addrspace::is_stack_growth(addr, frame.rsp) => {
            let grown = process::current().aspace.lock().as_mut().is_some_and(|a| {
                a.add_page(addr & !(abi::layout::PAGE_SIZE - 1), true)
                    .is_ok()
            });
            if !grown {
                process::exit(-1);
            }
        }
        Trap::PageFault { user: true, .. } | Trap::Exception { .. } if frame.from_user() => {
            process::exit(-1)
        }
        Trap::PageFault {
            addr,
            write,
            present,
            user,
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
