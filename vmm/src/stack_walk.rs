//! The guest's call stack at a sample: the frame-pointer chain from `rbp`,
//! followed across the kernel's trap frames into the interrupted code (a
//! user program or kernel code), with samples inside the trap assembly
//! attributed to the code the trap interrupted ([`crate::trap_context`]),
//! and an honest account of where the walk ended ([`End`]).
//!
//! The kernel and user programs are built with frame pointers: every frame
//! starts with `push rbp; mov rbp, rsp`, so `[rbp]` is the caller's `rbp` and
//! `[rbp + 8]` the return address. The kernel's trap path (`trap_common` in
//! `kernel/src/arch/trap.rs`) pushes a `TrapFrame` and calls `trap_dispatch`,
//! whose return address is the `trap_return` label; the frame then sits just
//! above `trap_dispatch`'s two words. The outermost frame of every thread
//! holds a zero `rbp` (user programs start with `rbp` = 0, kernel threads
//! and the boot path clear it), which is where a complete walk ends.

use abi::layout::trap_frame::{RBP as TF_RBP, RIP as TF_RIP};

use crate::guest_stack::PageWalker;
use crate::trap_context::{Regs, TrapText, interrupted};

/// Bytes between `trap_dispatch`'s frame pointer and its `TrapFrame` argument:
/// its saved `rbp` and its return address.
const TF_FROM_FP: u64 = 16;

/// Deepest stack recorded.
pub const MAX_FRAMES: usize = 128;

/// What the walker knows of the kernel's code.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KernelText {
    /// The kernel's `trap_return` label: a frame returning there is a trap.
    pub trap_return: Option<u64>,
    /// The trap assembly, if the kernel marks it.
    pub trap: Option<TrapText>,
}

/// Why a walk stopped before the outermost frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cut {
    /// A frame pointer led to memory the guest's page tables do not map (for
    /// a user stack, typically a page swapped out).
    Unmapped,
    /// A frame pointer was misaligned or did not lead up the stack.
    BadLink,
    /// The stack is deeper than [`MAX_FRAMES`].
    Depth,
}

/// How a walk ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// At the outermost frame (a zero frame pointer or return address).
    Root,
    /// Cut short: the outer frames are missing.
    Truncated(Cut),
    /// The sample is in the trap assembly and the interrupted code could not
    /// be found: the stack holds only the stub.
    TrapEntry,
}

/// A sampled stack: symbol lookup addresses, innermost first (`rip` itself,
/// then each return address minus one, which lies inside the call
/// instruction), and how the walk ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stack {
    /// The lookup addresses, innermost first.
    pub frames: Vec<u64>,
    /// How the walk ended (its root, a cut, or a trap stub alone).
    pub end: End,
}

/// Walks the stack of a vCPU stopped at `regs`. Never fails: what cannot be
/// read ends the walk with [`End::Truncated`] (or [`End::TrapEntry`]).
pub fn walk(pages: &mut PageWalker<'_>, regs: Regs, kernel: &KernelText) -> Stack {
    let mut frames = vec![regs.rip];
    let fp = match &kernel.trap {
        Some(text) if text.contains(regs.rip) => match interrupted(text, pages, regs) {
            Some(i) => {
                frames.push(i.rip);
                i.rbp
            }
            None => {
                return Stack {
                    frames,
                    end: End::TrapEntry,
                };
            }
        },
        _ => match at_edge(pages, regs) {
            // `trap_dispatch` before its frame is set up (or after it is
            // taken down): its caller is the trap, whose frame sits just
            // above the return address.
            Some((slot, ret)) if kernel.trap_return == Some(ret) => {
                frames.push(ret - 1);
                match trap_frame(pages, slot.wrapping_sub(8)) {
                    Ok((rip, rbp)) => {
                        frames.push(rip);
                        rbp
                    }
                    Err(cut) => {
                        return Stack {
                            frames,
                            end: End::Truncated(cut),
                        };
                    }
                }
            }
            Some((_, ret)) => {
                frames.push(ret - 1);
                regs.rbp
            }
            None => regs.rbp,
        },
    };
    let end = chain(pages, &mut frames, fp, kernel.trap_return);
    Stack { frames, end }
}

/// `ret`, `push rbp` and `mov rbp, rsp` (their first bytes).
const RET: u8 = 0xc3;
const PUSH_RBP: u8 = 0x55;
const MOV_RBP_RSP: [u8; 3] = [0x48, 0x89, 0xe5];

/// If `regs` stopped where `rbp` is still (or again) the caller's frame
/// pointer, so that the chain from it would skip the caller: on a
/// function's first instruction (`push rbp`: the return address is at
/// `[rsp]`), on the `mov rbp, rsp` after it (at `[rsp + 8]`), or on the
/// `ret` after the epilogue's `pop rbp` (at `[rsp]`; interrupts that `sti`
/// re-enables land there). Returns where that return address is, and the
/// address itself (into the caller).
fn at_edge(pages: &mut PageWalker<'_>, regs: Regs) -> Option<(u64, u64)> {
    let at = match pages.read_u8(regs.rip)? {
        RET | PUSH_RBP => regs.rsp,
        first if first == MOV_RBP_RSP[0] && regs.rbp != regs.rsp => {
            let rest = [
                pages.read_u8(regs.rip.wrapping_add(1))?,
                pages.read_u8(regs.rip.wrapping_add(2))?,
            ];
            if rest != MOV_RBP_RSP[1..] {
                return None;
            }
            regs.rsp.checked_add(8)?
        }
        _ => return None,
    };
    pages
        .read_u64(at)
        .filter(|&ret| ret != 0)
        .map(|ret| (at, ret))
}

/// The interrupted `(rip, rbp)` saved in the trap frame above
/// `trap_dispatch`'s frame at `fp`.
fn trap_frame(pages: &mut PageWalker<'_>, fp: u64) -> Result<(u64, u64), Cut> {
    let frame = fp.wrapping_add(TF_FROM_FP);
    match (
        pages.read_u64(frame.wrapping_add(TF_RIP)),
        pages.read_u64(frame.wrapping_add(TF_RBP)),
    ) {
        (Some(rip), Some(rbp)) => Ok((rip, rbp)),
        _ => Err(Cut::Unmapped),
    }
}

/// Follows the frame-pointer chain from `fp`, appending return addresses to
/// `frames`; returns how it ended.
fn chain(
    pages: &mut PageWalker<'_>,
    frames: &mut Vec<u64>,
    mut fp: u64,
    trap_return: Option<u64>,
) -> End {
    loop {
        if fp == 0 {
            return End::Root;
        }
        if frames.len() >= MAX_FRAMES {
            return End::Truncated(Cut::Depth);
        }
        if !fp.is_multiple_of(8) {
            return End::Truncated(Cut::BadLink);
        }
        let (Some(next), Some(ret)) = (pages.read_u64(fp), pages.read_u64(fp.wrapping_add(8)))
        else {
            return End::Truncated(Cut::Unmapped);
        };
        if ret == 0 {
            return End::Root;
        }
        frames.push(ret - 1);
        if trap_return == Some(ret) {
            match trap_frame(pages, fp) {
                Ok((rip, rbp)) => {
                    if frames.len() >= MAX_FRAMES {
                        return End::Truncated(Cut::Depth);
                    }
                    frames.push(rip);
                    fp = rbp;
                    continue;
                }
                Err(cut) => return End::Truncated(cut),
            }
        }
        // On one stack, callers' frames lie above their callees'.
        if next != 0 && next <= fp {
            return End::Truncated(Cut::BadLink);
        }
        fp = next;
    }
}

#[cfg(test)]
mod tests;
