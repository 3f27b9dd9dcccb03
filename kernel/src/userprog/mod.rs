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

pub use process::run_initial;

/// Handles a decoded trap (called by `arch::trap`).
pub fn handle_trap(trap: Trap, frame: &mut TrapFrame) {
    match trap {
        Trap::Syscall => syscall::dispatch(frame),
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
        Trap::PageFault { user: true, .. } | Trap::Exception { .. } if frame.from_user() => process::exit(-1),
        Trap::PageFault { addr, write, present, user } => {
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
            panic!("kernel exception {vector} at rip={:#x} rsp={:#x} error={:#x}", frame.rip, frame.rsp, frame.error_code);
        }
    }
}
