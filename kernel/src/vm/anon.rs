//! Anonymous pages (stack, data, bss, and executable segments once read):
//! their states and the kind's side of `swap_in`, `swap_out` and `destroy`.
//! A clean page (still equal to where it came from: zeros or the
//! executable's bytes, or the swap slot it was read from) is dropped on
//! eviction and rebuilt on the next fault; a dirty one goes to a swap slot.
//! The VM does the disk I/O itself, for several pages at once.
//!
//! The swap cache: a page read back from swap keeps its share of the slot
//! while it stays clean, so evicting it again writes nothing (it goes back
//! to the slot it came from). The first write makes the slot stale: it is
//! given back when the VM next sees the page dirty ([`AnonPage::take_stale`])
//! or, when the swap disk is full, taken from clean pages too
//! ([`AnonPage::drop_cache`], `swap_cache.rs`).
use super::addr::{PageRef, SwapSlot};
use super::frame::{Frame, FrameTable};
use super::page::{Resident, Source, SwapOut};
use super::swap::{SlotShare, Swap};

/// The state of an anonymous page.
#[derive(Debug)]
pub enum AnonPage {
    /// Not in memory: built from its origin on the next fault (UNINIT; or
    /// again, after eviction dropped it clean).
    Lazy,
    /// In memory.
    Resident {
        /// The page's frame.
        res: Resident,
        /// The swap slot it was read from, which holds the same bytes
        /// unless `res.dirty` (then it is stale and only waits to be
        /// given back).
        cache: Option<SlotShare>,
    },
    /// In swap: one share of the slot holding its bytes.
    Swapped(SlotShare),
}

impl AnonPage {
    /// The page's frame, if it is in memory.
    pub fn resident(&self) -> Option<&Resident> {
        match self {
            AnonPage::Resident { res, .. } => Some(res),
            _ => None,
        }
    }

    /// The page's frame to change, if it is in memory.
    pub fn resident_mut(&mut self) -> Option<&mut Resident> {
        match self {
            AnonPage::Resident { res, .. } => Some(res),
            _ => None,
        }
    }

    /// `anon_swap_in`'s source: the slot when swapped, else the origin.
    pub fn fill_source(&self) -> Source {
        match self {
            AnonPage::Swapped(slot) => Source::Swap(slot.slot()),
            _ => Source::Origin,
        }
    }

    /// The page is in memory now, in `res`; a page read from its slot keeps
    /// its share of the slot as the swap cache.
    pub fn swapped_in(&mut self, res: Resident) {
        let cache = match core::mem::replace(self, AnonPage::Lazy) {
            AnonPage::Swapped(slot) => Some(slot),
            AnonPage::Lazy => None,
            AnonPage::Resident { res: old, cache } => {
                crate::vm::leak_frame(old.frame);
                cache
            }
        };
        *self = AnonPage::Resident { res, cache };
    }

    /// `anon_swap_out`: a clean page is dropped (back to its cached slot or
    /// its origin), a dirty one swapped.
    pub fn swap_out_plan(dirty: bool) -> SwapOut {
        if dirty {
            SwapOut::ToSwap
        } else {
            SwapOut::Drop
        }
    }

    /// The page left memory: to `slot` when given (it was dirty), else
    /// back to its cached slot or its origin (it was clean). Returns its
    /// frame share and a stale slot share, for the caller to release.
    pub fn swapped_out(&mut self, slot: Option<SlotShare>) -> (Option<Frame>, Option<SlotShare>) {
        let (res, cache) = match core::mem::replace(self, AnonPage::Lazy) {
            AnonPage::Resident { res, cache } => (res, cache),
            AnonPage::Swapped(old) => {
                *self = AnonPage::Swapped(old);
                if let Some(slot) = slot {
                    crate::vm::leak_slot(slot);
                }
                return (None, None);
            }
            AnonPage::Lazy => return (None, slot),
        };
        let (next, stale) = match (slot, cache) {
            (Some(slot), cache) => (AnonPage::Swapped(slot), cache),
            (None, Some(cache)) if !res.dirty => (AnonPage::Swapped(cache), None),
            (None, cache) => {
                if res.dirty {
                    crate::vm::report_bug("a dirty anonymous page was dropped unsaved");
                }
                (AnonPage::Lazy, cache)
            }
        };
        *self = next;
        (Some(res.frame), stale)
    }

    /// The cached slot of a resident page that has been written (its bytes
    /// differ from the slot's now), for the caller to release.
    pub fn take_stale(&mut self) -> Option<SlotShare> {
        match self {
            AnonPage::Resident { res, cache } if res.dirty => cache.take(),
            _ => None,
        }
    }

    /// The cached slot of a resident page, if it has one.
    pub fn cached_slot(&self) -> Option<SwapSlot> {
        match self {
            AnonPage::Resident { cache, .. } => cache.as_ref().map(SlotShare::slot),
            _ => None,
        }
    }

    /// Gives up the cached slot of a resident page (the swap disk is full):
    /// the page counts as dirty from now on, its bytes being nowhere else.
    /// Returns the share for the caller to release.
    pub fn drop_cache(&mut self) -> Option<SlotShare> {
        match self {
            AnonPage::Resident { res, cache } => {
                let taken = cache.take();
                if taken.is_some() {
                    res.dirty = true;
                }
                taken
            }
            _ => None,
        }
    }

    /// `fork`: the child's copy shares the frame (and the cached slot while
    /// the page is clean) or the swap slot.
    pub fn fork(&self, child: PageRef, frames: &mut FrameTable, swap: &mut Swap) -> AnonPage {
        match self {
            AnonPage::Lazy => AnonPage::Lazy,
            AnonPage::Resident { res, cache } => AnonPage::Resident {
                res: res.share(child, frames),
                cache: cache
                    .as_ref()
                    .filter(|_| !res.dirty)
                    .map(|share| swap.share(share)),
            },
            AnonPage::Swapped(slot) => AnonPage::Swapped(swap.share(slot)),
        }
    }

    /// `anon_destroy`: what the page holds (frame share, slot shares), for
    /// the caller to release.
    pub fn destroy(self) -> (Option<Resident>, Option<SlotShare>) {
        match self {
            AnonPage::Lazy => (None, None),
            AnonPage::Resident { res, cache } => (Some(res), cache),
            AnonPage::Swapped(slot) => (None, Some(slot)),
        }
    }
}
