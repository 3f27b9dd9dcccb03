//! Anonymous pages (stack, data, bss, and executable segments once read):
//! their states and the kind's side of `swap_in`, `swap_out` and `destroy`.
//! A clean page (still equal to its origin: zeros or the executable's bytes)
//! is dropped on eviction and rebuilt on the next fault; a dirty one goes to
//! a swap slot. The VM does the disk I/O itself, for several pages at once.
use super::addr::PageRef;
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
    Resident(Resident),
    /// In swap: one share of the slot holding its bytes.
    Swapped(SlotShare),
}

impl AnonPage {
    /// The page's frame, if it is in memory.
    pub fn resident(&self) -> Option<&Resident> {
        match self {
            AnonPage::Resident(r) => Some(r),
            _ => None,
        }
    }

    /// The page's frame to change, if it is in memory.
    pub fn resident_mut(&mut self) -> Option<&mut Resident> {
        match self {
            AnonPage::Resident(r) => Some(r),
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

    /// The page is in memory now; returns the slot share it held.
    pub fn swapped_in(&mut self, resident: Resident) -> Option<SlotShare> {
        match core::mem::replace(self, AnonPage::Resident(resident)) {
            AnonPage::Swapped(slot) => Some(slot),
            AnonPage::Lazy => None,
            AnonPage::Resident(old) => {
                crate::vm::leak_frame(old.frame);
                None
            }
        }
    }

    /// `anon_swap_out`: a clean page is dropped, a dirty one swapped.
    pub fn swap_out_plan(dirty: bool) -> SwapOut {
        if dirty {
            SwapOut::ToSwap
        } else {
            SwapOut::Drop
        }
    }

    /// The page left memory (to `slot`, or dropped); returns its frame share.
    pub fn swapped_out(&mut self, slot: Option<SlotShare>) -> Option<Frame> {
        let next = match slot {
            Some(slot) => AnonPage::Swapped(slot),
            None => AnonPage::Lazy,
        };
        match core::mem::replace(self, next) {
            AnonPage::Resident(r) => Some(r.frame),
            AnonPage::Swapped(slot) => {
                crate::vm::leak_slot(slot);
                None
            }
            AnonPage::Lazy => None,
        }
    }

    /// `fork`: the child's copy shares the frame or the swap slot.
    pub fn fork(&self, child: PageRef, frames: &mut FrameTable, swap: &mut Swap) -> AnonPage {
        match self {
            AnonPage::Lazy => AnonPage::Lazy,
            AnonPage::Resident(r) => AnonPage::Resident(r.share(child, frames)),
            AnonPage::Swapped(slot) => AnonPage::Swapped(swap.share(slot)),
        }
    }

    /// `anon_destroy`: what the page holds, for the caller to release.
    pub fn destroy(self) -> (Option<Resident>, Option<SlotShare>) {
        match self {
            AnonPage::Lazy => (None, None),
            AnonPage::Resident(r) => (Some(r), None),
            AnonPage::Swapped(slot) => (None, Some(slot)),
        }
    }
}
