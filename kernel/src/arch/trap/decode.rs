//! Trap decoding: the [`Trap`] the generic kernel sees, and the
//! classification of a raw frame into one (recognising the system-call
//! signatures of the emulated native mode and `int $0x42` as each mode
//! delivers it).
use super::{TrapFrame, VECTOR_SYSCALL};
use crate::arch::cpu;

/// A decoded trap, as the generic kernel sees it.
#[derive(Debug)]
pub enum Trap {
    /// A system call; arguments are in the frame.
    Syscall,
    /// `int $0x42` from user mode (get_phys_addr).
    GetPhysAddr,
    /// A page fault at `addr`.
    PageFault {
        /// The faulting address (CR2, or the VIF page's copy in PVM mode).
        addr: u64,
        /// The access was a write.
        write: bool,
        /// An instruction fetch (the page was not executable, or not there).
        fetch: bool,
        /// The page was present: a protection fault, not a missing page.
        present: bool,
        /// The access came from user mode.
        user: bool,
        /// TSC at trap entry (for the fault profile).
        entry_tsc: u64,
    },
    /// The LAPIC timer.
    Timer,
    /// Any other exception.
    Exception {
        /// The exception's vector number.
        vector: u64,
    },
    /// A spurious or unexpected interrupt.
    Spurious,
}

const VEC_UD: u64 = 6;
const VEC_GP: u64 = 13;
const VEC_PF: u64 = 14;
const INT_INSN_0X42: [u8; 2] = [0xcd, abi::syscall::GET_PHYS_ADDR_VECTOR];

/// Classifies a raw frame.
pub(super) fn decode(frame: &mut TrapFrame, entry_tsc: u64) -> Trap {
    let user = frame.from_user();
    match frame.vector {
        VECTOR_SYSCALL => Trap::Syscall,
        v if v == abi::syscall::GET_PHYS_ADDR_VECTOR as u64 && user => Trap::GetPhysAddr,
        VEC_GP if user && frame.rip == crate::arch::syscall_entry::entry_address() => {
            // Emulated native mode: `syscall` jumped to LSTAR in ring 3 and the
            // first privileged instruction there faulted (when the entry page
            // is user-executable; otherwise the fetch faults, below).
            frame.finish_emulated_syscall();
            Trap::Syscall
        }
        VEC_GP
            if user
                && frame.error_code == ((abi::syscall::GET_PHYS_ADDR_VECTOR as u64) << 3) | 2 =>
        {
            // PVM guest mode delivers `int n` from user as #GP with this code.
            frame.rip += 2;
            Trap::GetPhysAddr
        }
        VEC_UD
            if user
                && crate::userprog::uaccess::peek_user_bytes::<2>(frame.rip)
                    == Some(INT_INSN_0X42) =>
        {
            // Emulated native mode delivers `int $0x42` as #UD at the instruction.
            frame.rip += 2;
            Trap::GetPhysAddr
        }
        VEC_PF => {
            let addr = cpu::read_cr2();
            if user && addr == frame.rip && frame.rip == crate::arch::syscall_entry::entry_address()
            {
                // Emulated native mode: `syscall` jumped to LSTAR in ring 3 and
                // the fetch from the supervisor-only page faulted.
                frame.finish_emulated_syscall();
                return Trap::Syscall;
            }
            Trap::PageFault {
                addr,
                present: frame.error_code & 1 != 0,
                write: frame.error_code & 2 != 0,
                fetch: frame.error_code & 0x10 != 0,
                user,
                entry_tsc,
            }
        }
        crate::arch::timer::TIMER_VECTOR => Trap::Timer,
        v if v < 32 => Trap::Exception { vector: v },
        _ => Trap::Spurious,
    }
}
