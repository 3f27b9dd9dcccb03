//! A page of the supplemental page table: its access rights and its state,
//! an enum per kind whose variants own exactly what the state holds (the
//! Pintos `struct page` with its `uninit` / `anon` / `file` union).
//!
//! This file is the operations table of the seed's `page_operations`: the
//! policy code (claim, eviction, fork, teardown) calls the methods here and
//! never looks at the kind; each method hands the work to [`super::anon`] or
//! [`super::file`].
use super::addr::{PageRef, SwapSlot};
use super::anon::AnonPage;
use super::file::FilePage;
use super::frame::{Frame, FrameTable};
use super::hw::Prot;
use super::swap::{SlotShare, Swap};

/// A page that is in memory: one share of its frame.
#[derive(Debug)]
pub struct Resident {
    /// The page's share of its frame.
    pub frame: Frame,
    /// The bytes differ from what the page would be rebuilt from (the swap
    /// slot it was read from, else its executable bytes or zeros, for
    /// anonymous pages; the file for file pages): set from the page table's
    /// dirty bit, by kernel writes, and when the swap cache gives up the
    /// slot. A dirty anonymous page goes to swap; a dirty file page is
    /// written back.
    pub dirty: bool,
    /// The next page sharing the frame (the frame table's reverse map).
    pub next: Option<PageRef>,
}

impl Resident {
    /// A share of this page's frame for the forked page `child`, which
    /// joins the frame's reverse map.
    pub fn share(&self, child: PageRef, frames: &mut FrameTable) -> Resident {
        let (frame, next) = frames.share(&self.frame, child);
        Resident {
            frame,
            dirty: self.dirty,
            next,
        }
    }
}

/// The state of a page, by kind.
#[derive(Debug)]
pub enum State {
    /// Anonymous memory: stack, executable segments (copied on first
    /// touch), data and bss.
    Anon(AnonPage),
    /// A page of a file mapping.
    File(FilePage),
}

/// One page of a process's address space.
#[derive(Debug)]
pub struct Page {
    /// What user mode may do with the page.
    pub prot: Prot,
    /// Where its bytes are.
    pub state: State,
}

/// What [`Page::fill_source`] says a fault must read into the new frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The page's origin in its region (zeros, executable or file bytes).
    Origin,
    /// The page's swap slot.
    Swap(SwapSlot),
}

/// What eviction must do with a resident page ([`Page::swap_out_plan`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SwapOut {
    /// Nothing to save: the page can be rebuilt from its origin.
    Drop,
    /// The bytes must go to a swap slot first.
    ToSwap,
    /// The bytes must be written back to the mapped file first.
    ToFile,
}

impl Page {
    /// A page not yet in memory, of the kind its region gives (`file`:
    /// a page of a file mapping).
    pub fn lazy(prot: Prot, file: bool) -> Page {
        Page {
            prot,
            state: if file {
                State::File(FilePage::Lazy)
            } else {
                State::Anon(AnonPage::Lazy)
            },
        }
    }

    /// The resident part, if the page is in memory.
    pub fn resident(&self) -> Option<&Resident> {
        match &self.state {
            State::Anon(a) => a.resident(),
            State::File(f) => f.resident(),
        }
    }

    /// The resident part, mutably.
    pub fn resident_mut(&mut self) -> Option<&mut Resident> {
        match &mut self.state {
            State::Anon(a) => a.resident_mut(),
            State::File(f) => f.resident_mut(),
        }
    }

    /// Whether the page is a file page.
    pub fn is_file(&self) -> bool {
        matches!(self.state, State::File(_))
    }

    /// `swap_in`'s source for a page that is not resident.
    pub fn fill_source(&self) -> Source {
        match &self.state {
            State::Anon(a) => a.fill_source(),
            State::File(_) => Source::Origin,
        }
    }

    /// Makes the page resident in `frame` (filled from `fill_source`; a
    /// page read from swap keeps its slot share as the swap cache).
    pub fn swapped_in(&mut self, resident: Resident) {
        match &mut self.state {
            State::Anon(a) => a.swapped_in(resident),
            State::File(f) => f.swapped_in(resident),
        }
    }

    /// `swap_out`'s first step: what eviction must do with this resident
    /// page, `dirty` including the page table's dirty bit.
    pub fn swap_out_plan(&self, dirty: bool) -> SwapOut {
        match &self.state {
            State::Anon(_) => AnonPage::swap_out_plan(dirty),
            State::File(_) => FilePage::swap_out_plan(dirty),
        }
    }

    /// `swap_out`'s last step: the page leaves memory (its bytes are in
    /// `slot` when one is given, else in its cached slot or rebuilt from
    /// the origin later); returns its frame share and a slot share that is
    /// no longer needed, for the caller to release.
    pub fn swapped_out(&mut self, slot: Option<SlotShare>) -> (Option<Frame>, Option<SlotShare>) {
        match &mut self.state {
            State::Anon(a) => a.swapped_out(slot),
            State::File(f) => {
                debug_assert!(slot.is_none(), "file pages never go to swap");
                (f.swapped_out(), slot)
            }
        }
    }

    /// The swap cache's slot of a resident anonymous page that has been
    /// written since it was read (stale), for the caller to release.
    pub fn take_stale_cache(&mut self) -> Option<SlotShare> {
        match &mut self.state {
            State::Anon(a) => a.take_stale(),
            State::File(_) => None,
        }
    }

    /// The swap cache's slot of a resident anonymous page, if it has one.
    pub fn cached_slot(&self) -> Option<SwapSlot> {
        match &self.state {
            State::Anon(a) => a.cached_slot(),
            State::File(_) => None,
        }
    }

    /// Gives up the swap cache's slot of a resident anonymous page (the
    /// page counts as dirty from now on), for the caller to release.
    pub fn drop_cache(&mut self) -> Option<SlotShare> {
        match &mut self.state {
            State::Anon(a) => a.drop_cache(),
            State::File(_) => None,
        }
    }

    /// `destroy`'s split: takes what the page holds (frame share, swap-slot
    /// share: the page's slot or its swap cache) for the caller to release,
    /// leaving the page empty.
    pub fn destroy(self) -> (Option<Resident>, Option<SlotShare>) {
        match self.state {
            State::Anon(a) => a.destroy(),
            State::File(f) => (f.destroy(), None),
        }
    }

    /// `fork`: the child page `child`'s copy of this page, sharing its frame
    /// or swap slot (the caller has made the parent's mapping read-only).
    pub fn fork(&self, child: PageRef, frames: &mut FrameTable, swap: &mut Swap) -> Page {
        Page {
            prot: self.prot,
            state: match &self.state {
                State::Anon(a) => State::Anon(a.fork(child, frames, swap)),
                State::File(f) => State::File(f.fork(child, frames)),
            },
        }
    }

    /// Whether `destroy` must write the page back first (a dirty file page).
    pub fn writes_back_on_destroy(&self, hw_dirty: bool) -> bool {
        match &self.state {
            State::Anon(_) => false,
            State::File(f) => f.resident().is_some_and(|r| r.dirty || hw_dirty),
        }
    }
}
