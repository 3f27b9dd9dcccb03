//! The frame table: one entry per frame of the user pool, recording which
//! page (address space and address) it holds and whether it is pinned, and the
//! clock hand that chooses eviction victims by the hardware accessed bit.
use super::SpaceId;
use super::clock::{self, Look};
use crate::arch::paging::PageTable;
use abi::layout::PAGE_SIZE;
use alloc::vec::Vec;

#[derive(Debug, Clone, Copy, Default)]
pub struct FrameEntry {
    /// The page in the frame: its address space and virtual address.
    pub owner: Option<(SpaceId, u64)>,
    /// Pinned frames are never chosen (being filled, written out or copied).
    pub pinned: bool,
}

#[derive(Debug, Default)]
pub struct FrameTable {
    base: u64,
    entries: Vec<FrameEntry>,
    hand: usize,
}

impl FrameTable {
    /// A table with no frames (before `vm::init`).
    pub const fn empty() -> FrameTable {
        FrameTable {
            base: 0,
            entries: Vec::new(),
            hand: 0,
        }
    }

    /// Frames in the table.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// A table over the user pool `[base, base + count frames)`.
    pub fn new(base: u64, count: usize) -> FrameTable {
        FrameTable {
            base,
            entries: alloc::vec![FrameEntry::default(); count],
            hand: 0,
        }
    }

    fn index(&self, pa: u64) -> usize {
        let i = ((pa - self.base) / PAGE_SIZE) as usize;
        assert!(
            i < self.entries.len(),
            "frame {pa:#x} is not in the user pool"
        );
        i
    }

    pub fn set_owner(&mut self, pa: u64, owner: Option<(SpaceId, u64)>) {
        let i = self.index(pa);
        self.entries[i] = FrameEntry {
            owner,
            pinned: false,
        };
    }

    pub fn owner(&self, pa: u64) -> Option<(SpaceId, u64)> {
        self.entries[self.index(pa)].owner
    }

    pub fn pin(&mut self, pa: u64, pinned: bool) {
        let i = self.index(pa);
        self.entries[i].pinned = pinned;
    }

    /// Chooses a victim with the clock: skips free and pinned frames, gives
    /// accessed pages a second chance (clearing the bit in their page table,
    /// found with `table`), returns the first idle frame.
    pub fn choose_victim(
        &mut self,
        mut table: impl FnMut(SpaceId) -> Option<&'static mut PageTable>,
    ) -> Option<u64> {
        let n = self.entries.len();
        let entries = &self.entries;
        let victim = clock::select(&mut self.hand, n, |i| match entries[i] {
            FrameEntry {
                owner: Some((space, va)),
                pinned: false,
            } => match table(space) {
                Some(pt) => {
                    if pt.test_and_clear_accessed(va) {
                        Look::Accessed
                    } else {
                        Look::Idle
                    }
                }
                None => Look::Skip,
            },
            _ => Look::Skip,
        })?;
        Some(self.base + victim as u64 * PAGE_SIZE)
    }
}
