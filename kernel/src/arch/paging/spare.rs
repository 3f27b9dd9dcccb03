//! Spare page-table trees: the emptied tables of an address space that
//! ended, kept whole for the next one instead of freed.
//!
//! In the PVM guest mode the hypervisor write-protects every frame it has
//! shadowed as a page table, and keeps doing so after the guest frees it:
//! the first write to such a frame traps into the hypervisor, ~19,000 cycles
//! measured (against ~700 for zeroing a frame that was never a page table).
//! A fork zeroed about ten such frames (the child's top-level pair, the
//! tables under it, a kernel stack that landed on former tables), and
//! `fork` + `exit` + `wait` took ~450,000 cycles, 40% of it in those traps.
//! An address space whose user pages were all unmapped has every leaf entry
//! clear, and its intermediate tables still linked: a valid empty address
//! space. Kept as it is, it serves the next address space without a single
//! write when the layouts match (a forked child, another run of the same
//! program), and with one per table the new layout adds.
//!
//! Spares are bounded (64 trees of at most 16 frames each, an eighth of the
//! kernel pool in all; a tree that grew larger is freed, so that no address
//! space inherits another's sprawl), are counted as free kernel memory, and
//! are freed whenever the kernel pool cannot serve an allocation
//! ([`release_all`]) and before the leak check counts kernel frames.
use super::{ADDR_MASK, PTE_P, PTE_PS, USER_SLOTS, table};
use crate::mm::palloc;
use crate::sync::SpinLock;
use arrayvec::ArrayVec;
use core::sync::atomic::{AtomicUsize, Ordering};

/// Trees kept at most: a burst of exits (`multi-oom` unwinding a hundred
/// nested processes before forking them again) leaves many.
const TREES_MAX: usize = 64;
/// The share of the kernel pool the kept trees may hold at most.
const POOL_DIVISOR: usize = 8;
/// Frames a kept tree may have at most (its top-level pair included).
pub const TREE_FRAMES_MAX: usize = 16;

/// Emptied trees, by root, with their frame counts.
#[derive(Debug, Default)]
pub struct Spares {
    trees: ArrayVec<(u64, usize), TREES_MAX>,
}

impl Spares {
    /// Keeps the tree at `root` of `frames` frames; false (the caller frees
    /// it) when the tree is too large, or enough trees or more than `cap`
    /// frames in all are kept.
    pub fn keep(&mut self, root: u64, frames: usize, cap: usize) -> bool {
        frames <= TREE_FRAMES_MAX
            && self.frames() + frames <= cap
            && self.trees.try_push((root, frames)).is_ok()
    }

    /// The most recently kept tree (its root and frames), if any.
    pub fn take(&mut self) -> Option<(u64, usize)> {
        self.trees.pop()
    }

    /// Frames the kept trees hold.
    pub fn frames(&self) -> usize {
        self.trees.iter().map(|&(_, n)| n).sum()
    }
}

static SPARES: SpinLock<Spares> = SpinLock::new(Spares {
    trees: ArrayVec::new_const(),
});
/// [`Spares::frames`] of [`SPARES`], readable without its lock.
static FRAMES: AtomicUsize = AtomicUsize::new(0);

/// Runs `f` on the kept trees under their lock, then republishes their
/// frame count in [`FRAMES`].
fn with_spares<T>(f: impl FnOnce(&mut Spares) -> T) -> T {
    let mut spares = SPARES.lock();
    let out = f(&mut spares);
    FRAMES.store(spares.frames(), Ordering::Relaxed);
    out
}

/// Keeps the emptied tree at `root` for the next address space; false when
/// it is not kept (the caller frees it). Every leaf entry of the tree must
/// be clear.
pub(super) fn keep(root: u64) -> bool {
    let Some(frames) = table_frames(root) else {
        return false;
    };
    let cap = crate::mm::palloc::kernel_usage().1 / POOL_DIVISOR;
    with_spares(|spares| spares.keep(root, frames, cap))
}

/// A kept tree's root, if one is kept and its frames may be charged to a
/// user program (`may_charge`, with the tree still counted as free, as for
/// an allocation afresh); otherwise every spare is freed and `None` returned
/// (the caller allocates, and fails as the pool decides).
pub(super) fn take() -> Option<u64> {
    let newest = with_spares(|spares| {
        let &(_, frames) = spares.trees.last()?;
        let allowed = crate::mm::may_charge(frames * abi::layout::PAGE_SIZE as usize);
        Some(if allowed { spares.take() } else { None })
    });
    match newest {
        // None kept.
        None => None,
        Some(Some((root, _))) => Some(root),
        // Refused: the pool decides, with every spare given back.
        Some(None) => {
            release_all();
            None
        }
    }
}

/// Frames the spare trees hold (free kernel memory, for the accounting).
pub fn frames() -> usize {
    FRAMES.load(Ordering::Relaxed)
}

/// Frees every spare tree (kernel memory is short, or the leak check
/// counts kernel frames).
pub fn release_all() {
    while let Some((root, _)) = with_spares(Spares::take) {
        free_tree(root);
    }
}

/// The user-half tables under the top-level pair at `root`, each present
/// entry of a level above the leaves with the table it links: the pages of
/// every level (PDPT, PD, PT), in no particular order.
fn for_each_user_table(root: u64, mut f: impl FnMut(u64, u32)) {
    let l4 = table(root);
    for e4 in l4[..USER_SLOTS].iter().filter(|e| *e & PTE_P != 0) {
        let l3 = table(e4 & ADDR_MASK);
        for e3 in l3.iter().filter(|e| *e & PTE_P != 0 && *e & PTE_PS == 0) {
            let l2 = table(e3 & ADDR_MASK);
            for e2 in l2.iter().filter(|e| *e & PTE_P != 0 && *e & PTE_PS == 0) {
                f(e2 & ADDR_MASK, 1);
            }
            f(e3 & ADDR_MASK, 2);
        }
        f(e4 & ADDR_MASK, 3);
    }
}

/// Frees the user-half page-table pages under the pair at `root`, then the pair.
pub(super) fn free_tree(root: u64) {
    for_each_user_table(root, |pa, _| palloc::free_kernel_pages(pa, 1));
    palloc::free_kernel_pages(root, 2);
}

/// The frames of the tree at `root` (the pair included) if no user page is
/// mapped in it (every leaf entry clear, no large page) and it is small
/// enough to keep ([`TREE_FRAMES_MAX`]). Reads only; a larger tree's tables
/// are counted, not read.
fn table_frames(root: u64) -> Option<usize> {
    let mut frames = 2;
    let mut empty = true;
    for_each_user_table(root, |pa, level| {
        frames += 1;
        if frames > TREE_FRAMES_MAX {
            return;
        }
        let t = table(pa);
        empty &= match level {
            1 => t.iter().all(|&e| e == 0),
            _ => t.iter().all(|&e| e & PTE_PS == 0),
        };
    });
    (empty && frames <= TREE_FRAMES_MAX).then_some(frames)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_a_few_small_trees_and_gives_back_the_newest_first() {
        let mut s = Spares::default();
        assert!(s.take().is_none());
        let cap = usize::MAX;
        assert!(!s.keep(0x1000, TREE_FRAMES_MAX + 1, cap), "too large");
        for i in 0..TREES_MAX as u64 {
            assert!(s.keep(0x10_0000 * (i + 1), 8, cap));
        }
        assert!(!s.keep(0x90_0000, 8, cap), "enough kept");
        assert_eq!(s.frames(), 8 * TREES_MAX);
        assert_eq!(s.take(), Some((0x10_0000 * TREES_MAX as u64, 8)));
        assert_eq!(s.frames(), 8 * (TREES_MAX - 1));
    }

    #[test]
    fn keeps_no_more_frames_than_the_cap() {
        let mut s = Spares::default();
        assert!(s.keep(0x1000, 10, 24));
        assert!(s.keep(0x3000, 10, 24));
        assert!(!s.keep(0x5000, 10, 24));
        assert!(s.keep(0x5000, 4, 24));
        assert_eq!(s.frames(), 24);
    }
}
