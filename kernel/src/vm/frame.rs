//! The frame table: one entry per frame of the user pool, with its share
//! count, its pin, and the head of its reverse map (the pages that map it).
//!
//! A page that holds a frame holds a [`Frame`]: one share of it. A private
//! frame has one share; after `fork` a frame is shared copy-on-write by
//! several pages, each with its own share. The reverse map is a list
//! threaded through the pages themselves: the entry names the first page,
//! and each page's [`super::page::Resident::next`] names the next, so sharing
//! a frame never allocates. Shares are values that cannot be dropped
//! silently: they go back through [`FrameTable::release`].
use super::addr::{PageRef, PhysAddr};
use super::clock::{self, Look};
use abi::layout::PAGE_SIZE;
use alloc::vec::Vec;

/// Index of a frame in the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FrameId(u32);

/// One share of a frame, held by the page that maps it.
#[derive(Debug, PartialEq, Eq)]
#[must_use = "a frame share must be released through the frame table"]
pub struct Frame(FrameId);

impl Frame {
    /// The frame this share is of.
    pub fn id(&self) -> FrameId {
        self.0
    }
}

impl Drop for Frame {
    fn drop(&mut self) {
        // A share dropped without `release` is a kernel bug (a leak).
        crate::vm::report_bug("a frame share was dropped without being released");
    }
}

#[derive(Clone, Copy, Debug, Default)]
struct Entry {
    /// Shares held (0: the frame is free).
    shares: u32,
    /// Pinned frames are never chosen by the clock (being filled or copied).
    pinned: bool,
    /// The first page of the reverse map.
    head: Option<PageRef>,
}

/// The user pool's frames: each one's shares, pin and reverse map (the
/// pages that map it), and the eviction clock's hand.
#[derive(Debug, Default)]
pub struct FrameTable {
    base: u64,
    entries: Vec<Entry>,
    hand: usize,
}

impl FrameTable {
    /// A table with no frames (before the VM starts).
    pub const fn empty() -> FrameTable {
        FrameTable {
            base: 0,
            entries: Vec::new(),
            hand: 0,
        }
    }

    /// A table over the user pool `[base, base + count frames)` (boot time).
    pub fn new(base: PhysAddr, count: usize) -> FrameTable {
        FrameTable {
            base: base.get(),
            entries: alloc::vec![Entry::default(); count],
            hand: 0,
        }
    }

    /// Frames in the table.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the table has no frames (before the VM starts).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn entry(&self, id: FrameId) -> &Entry {
        &self.entries[id.0 as usize]
    }

    fn entry_mut(&mut self, id: FrameId) -> &mut Entry {
        &mut self.entries[id.0 as usize]
    }

    /// The id of the frame at `pa` (which must be in the user pool).
    pub fn id_of(&self, pa: PhysAddr) -> FrameId {
        let i = (pa.get() - self.base) / PAGE_SIZE;
        assert!(
            (i as usize) < self.entries.len(),
            "{pa:?} is not a user frame"
        );
        FrameId(i as u32)
    }

    /// The frame's guest-physical address.
    pub fn pa(&self, id: FrameId) -> PhysAddr {
        PhysAddr::new(self.base + id.0 as u64 * PAGE_SIZE)
    }

    /// Takes the free frame `pa` (just allocated from the pool) for the page
    /// `owner`: its first share, pinned until [`FrameTable::unpin`].
    pub fn take(&mut self, pa: PhysAddr, owner: PageRef) -> Frame {
        let id = self.id_of(pa);
        let e = self.entry_mut(id);
        debug_assert_eq!(e.shares, 0, "taking a frame in use");
        *e = Entry {
            shares: 1,
            pinned: true,
            head: Some(owner),
        };
        Frame(id)
    }

    /// Another share of `frame` for page `sharer`, put first in the reverse
    /// map; returns it with the page that was first (the new page's `next`).
    pub fn share(&mut self, frame: &Frame, sharer: PageRef) -> (Frame, Option<PageRef>) {
        let e = self.entry_mut(frame.0);
        e.shares += 1;
        let next = e.head.replace(sharer);
        (Frame(frame.0), next)
    }

    /// Shares of the frame.
    pub fn shares(&self, id: FrameId) -> u32 {
        self.entry(id).shares
    }

    /// The first page of the frame's reverse map.
    pub fn head(&self, id: FrameId) -> Option<PageRef> {
        self.entry(id).head
    }

    /// Sets the first page of the reverse map (when unlinking a page).
    pub fn set_head(&mut self, id: FrameId, head: Option<PageRef>) {
        self.entry_mut(id).head = head;
    }

    /// Gives back one share (the page must already be out of the reverse
    /// map); returns the frame's address when it was the last share, for the
    /// caller to return to the pool.
    pub fn release(&mut self, frame: Frame) -> Option<PhysAddr> {
        let id = frame.0;
        core::mem::forget(frame);
        let e = self.entry_mut(id);
        e.shares -= 1;
        if e.shares > 0 {
            return None;
        }
        *e = Entry::default();
        Some(self.pa(id))
    }

    /// Keeps the clock from choosing frame `id` (while it is filled or copied).
    pub fn pin(&mut self, id: FrameId) {
        self.entry_mut(id).pinned = true;
    }

    /// Lets the clock choose frame `id` again.
    pub fn unpin(&mut self, id: FrameId) {
        self.entry_mut(id).pinned = false;
    }

    /// Frames in use (with at least one share).
    pub fn in_use(&self) -> usize {
        self.entries.iter().filter(|e| e.shares > 0).count()
    }

    /// Chooses a victim with the clock: skips free and pinned frames, gives
    /// recently used frames a second chance (`accessed(head)` tests and
    /// clears the accessed bits of every page of the reverse map starting at
    /// `head`), returns the first idle frame, or `None` after two full turns.
    pub fn choose_victim(&mut self, mut accessed: impl FnMut(PageRef) -> bool) -> Option<FrameId> {
        let n = self.entries.len();
        let entries = &self.entries;
        let victim = clock::select(&mut self.hand, n, |i| match entries[i] {
            Entry {
                pinned: false,
                head: Some(head),
                shares,
            } if shares > 0 => {
                if accessed(head) {
                    Look::Accessed
                } else {
                    Look::Idle
                }
            }
            _ => Look::Skip,
        })?;
        Some(FrameId(victim as u32))
    }
}
