//! The interrupted context of a sample taken inside the kernel's trap entry
//! and exit assembly (IDT stubs, `trap_common`, `trap_return`, `debug_trap`,
//! the `syscall` entries; `kernel/src/arch/`), which the kernel links between
//! `__trap_text_start` and `__trap_text_end`.
//!
//! There `rbp` is still the interrupted code's (the stubs never set up a
//! frame), so a plain frame-pointer walk would skip the interrupted function
//! and hang the stub under its caller. Instead the sampler finds where the
//! interrupted code was: in the hardware iret frame (`rip, cs, rflags, rsp,
//! ss`) that lies at most a [`TrapFrame`](abi::layout::trap_frame) above
//! `rsp` while the frame is being built or torn down, in `rcx` in the
//! `syscall` entry and at the PVM `int $0x19` return, and on the stack at the
//! PVM `popfq; ret` return to ring 0.

use abi::layout::gdt::{KERNEL_CS, USER_CS, USER_DS};
use abi::layout::trap_frame::{RBP as TF_RBP, RCX as TF_RCX, RIP as TF_RIP, SIZE as TF_SIZE};

use crate::guest_stack::{PageWalker, is_kernel_address};
use crate::symbols::Symbols;

/// Words above `rsp` searched for the iret frame: a whole `TrapFrame` (the
/// deepest the frame lies while general registers are pushed or popped)
/// plus a few.
const SCAN_WORDS: u64 = TF_SIZE / 8 + 4;

/// RFLAGS bits that exist (the others are reserved and read as zero).
const RFLAGS_DEFINED: u64 = 0x3f_7fd7;
/// RFLAGS bit 1, reserved and always set.
const RFLAGS_ONE: u64 = 1 << 1;

/// The kernel's trap-path addresses, from its symbols.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrapText {
    /// `__trap_text_start..__trap_text_end`: all of the trap assembly.
    pub range: std::ops::Range<u64>,
    /// `syscall_entry..syscall_entry_end`: `rcx` is the user rip throughout.
    pub syscall: std::ops::Range<u64>,
    /// The PVM `int $0x19` return to user: `rcx` is where user code resumes.
    pub sysret: Option<u64>,
    /// The PVM `popfq` of the return to ring 0: rip at `[rsp + 8]`.
    pub popfq: Option<u64>,
    /// The PVM `ret` of the return to ring 0: rip at `[rsp]`.
    pub ret: Option<u64>,
}

impl TrapText {
    /// The trap path of `kernel`, or `None` for a kernel that does not mark
    /// it (then samples in the stubs are walked like any other).
    pub fn from_symbols(kernel: &Symbols) -> Option<TrapText> {
        let start = kernel.address_of("__trap_text_start")?;
        let end = kernel.address_of("__trap_text_end")?;
        let syscall = match (
            kernel.address_of("syscall_entry"),
            kernel.address_of("syscall_entry_end"),
        ) {
            (Some(s), Some(e)) if s <= e => s..e,
            _ => 0..0,
        };
        (start < end).then(|| TrapText {
            range: start..end,
            syscall,
            sysret: kernel.address_of("trap_pvm_sysret"),
            popfq: kernel.address_of("trap_pvm_popfq"),
            ret: kernel.address_of("trap_pvm_ret"),
        })
    }

    /// Whether `rip` is in the trap assembly.
    pub fn contains(&self, rip: u64) -> bool {
        self.range.contains(&rip)
    }
}

/// The vCPU registers a sample needs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Regs {
    /// The instruction pointer.
    pub rip: u64,
    /// The stack pointer (where a trap stub's frame is).
    pub rsp: u64,
    /// The frame pointer.
    pub rbp: u64,
    /// `rcx`: the interrupted user rip in the syscall entry.
    pub rcx: u64,
}

/// Where the code a trap interrupted was: its rip and its frame pointer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Interrupted {
    /// Where the interrupted code was.
    pub rip: u64,
    /// Its frame pointer, where its rbp chain starts.
    pub rbp: u64,
}

/// The interrupted context of a sample at `regs.rip` inside `text`, or
/// `None` if it cannot be found (no plausible iret frame near `rsp`, or
/// the stack is unreadable).
pub fn interrupted(text: &TrapText, pages: &mut PageWalker<'_>, regs: Regs) -> Option<Interrupted> {
    let Regs { rip, rsp, rbp, rcx } = regs;
    let here = |target: u64| Some(Interrupted { rip: target, rbp });
    if text.syscall.contains(&rip) || text.sysret == Some(rip) {
        return here(rcx);
    }
    if text.popfq == Some(rip) {
        return here(pages.read_u64(rsp.checked_add(8)?)?);
    }
    if text.ret == Some(rip) {
        return here(pages.read_u64(rsp)?);
    }
    for k in 0..SCAN_WORDS {
        let at = rsp.checked_add(8 * k)?;
        if !is_iret_frame(pages, at, text) {
            continue;
        }
        let mut rip = pages.read_u64(at)?;
        // The frame's general registers start TF_RIP below its rip; once
        // `rsp` is at or below the rbp slot, the slot holds the interrupted
        // rbp (pushed, or not yet popped) and the register may not (a frame
        // the kernel built to enter user mode).
        let base = at.wrapping_sub(TF_RIP);
        let saved = |pages: &mut PageWalker<'_>, slot: u64, reg: u64| {
            if rsp <= base.wrapping_add(slot) {
                pages.read_u64(base.wrapping_add(slot))
            } else {
                Some(reg)
            }
        };
        if text.syscall.contains(&rip) {
            // The emulated native mode's `syscall`, which faulted at the
            // entry in user mode: the user rip is in rcx.
            rip = saved(pages, TF_RCX, rcx)?;
        }
        let rbp = saved(pages, TF_RBP, rbp)?;
        return Some(Interrupted { rip, rbp });
    }
    None
}

/// Whether the words at `at` look like a hardware iret frame: a user frame
/// `[user rip, USER_CS, rflags, user rsp, USER_DS]` or a kernel frame
/// `[kernel rip, KERNEL_CS, rflags, ..]` (whose `rsp` and `ss` slots the
/// PVM return to ring 0 may already have overwritten). A user frame may hold
/// the `syscall` entry's address: in the emulated native mode `syscall`
/// jumps there without leaving user mode, and faults.
fn is_iret_frame(pages: &mut PageWalker<'_>, at: u64, text: &TrapText) -> bool {
    let word = |pages: &mut PageWalker<'_>, i: u64| pages.read_u64(at.wrapping_add(8 * i));
    let (Some(rip), Some(cs), Some(rflags)) = (word(pages, 0), word(pages, 1), word(pages, 2))
    else {
        return false;
    };
    if rflags & RFLAGS_ONE == 0 || rflags & !RFLAGS_DEFINED != 0 {
        return false;
    }
    if cs == u64::from(KERNEL_CS) {
        return is_kernel_address(rip);
    }
    let user_rip = rip < 0x0000_8000_0000_0000 || text.syscall.contains(&rip);
    if cs != u64::from(USER_CS) || !user_rip {
        return false;
    }
    let (Some(sp), Some(ss)) = (word(pages, 3), word(pages, 4)) else {
        return false;
    };
    sp < 0x0000_8000_0000_0000 && ss == u64::from(USER_DS)
}
