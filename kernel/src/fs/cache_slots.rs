//! The block cache's slot table: the slots it holds, each with its block's
//! memory, dirty sectors and last use, and an index from block number to
//! slot.
//!
//! The table grows a slot at a time when the cache takes a block's memory
//! ([`Slots::try_add`], which fails instead of allocating infallibly) and
//! shrinks when it gives one back ([`Slots::remove`]). The index keeps room
//! for twice the slots, so that an insert after a removal never allocates
//! (hashbrown then always rehashes in place): making that room is the
//! fallible part of adding a slot.

use alloc::boxed::Box;
use alloc::vec::Vec;

use hashbrown::HashMap;

/// One slot: a block's memory and what it holds.
pub struct Slot {
    /// Block number, `None` while the slot is free.
    pub block: Option<u64>,
    /// The block's sectors modified since it was read or last written back
    /// (bit `i`: sector `i` of the block; 0: clean).
    pub dirty: u64,
    /// Tick of the last use (larger is more recent).
    used: u64,
    /// The block's bytes ([`super::cache::BLOCK_SIZE`]).
    pub data: Box<[u8]>,
}

/// The slots and their index.
pub struct Slots {
    slots: Vec<Slot>,
    /// Block number -> slot, for every slot holding a block.
    index: HashMap<u64, usize>,
    /// Slots with dirty sectors (so that a clean cache flushes at no cost).
    dirty: usize,
    tick: u64,
}

impl Slots {
    /// No slots (allocates nothing).
    pub fn new() -> Slots {
        Slots {
            slots: Vec::new(),
            index: HashMap::new(),
            dirty: 0,
            tick: 0,
        }
    }

    /// Slots held.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Slots with dirty sectors.
    pub fn dirty_slots(&self) -> usize {
        self.dirty
    }

    /// Slot `i` (panics if there is none: the cache's own mistake).
    pub fn get(&self, i: usize) -> &Slot {
        &self.slots[i]
    }

    /// The slot holding block `b`, marked as used now; `None` on a miss.
    pub fn find(&mut self, b: u64) -> Option<usize> {
        self.tick += 1;
        let i = *self.index.get(&b)?;
        self.slots[i].used = self.tick;
        Some(i)
    }

    /// Adds a free slot owning `data`. When the table or the index cannot
    /// grow, nothing changes and `data` comes back as the error.
    pub fn try_add(&mut self, data: Box<[u8]>) -> Result<usize, Box<[u8]>> {
        let n = self.slots.len() + 1;
        let room = (2 * n + 2).saturating_sub(self.index.len());
        if self.slots.try_reserve(1).is_err() || self.index.try_reserve(room).is_err() {
            return Err(data);
        }
        self.slots.push(Slot {
            block: None,
            dirty: 0,
            used: 0,
            data,
        });
        Ok(n - 1)
    }

    /// A free slot if there is one, else the least recently used; `None`
    /// when there are no slots.
    pub fn victim(&self) -> Option<usize> {
        self.slots
            .iter()
            .enumerate()
            .min_by_key(|(_, s)| (s.block.is_some(), s.used))
            .map(|(i, _)| i)
    }

    /// Frees slot `i` (clean): its block is no longer cached.
    pub fn vacate(&mut self, i: usize) {
        debug_assert_eq!(self.slots[i].dirty, 0, "vacating a dirty slot");
        if let Some(old) = self.slots[i].block.take() {
            self.index.remove(&old);
        }
    }

    /// Makes free slot `i` hold block `b` (its bytes already there), clean
    /// and used now.
    pub fn assign(&mut self, i: usize, b: u64) {
        self.vacate(i);
        self.slots[i].block = Some(b);
        self.slots[i].used = self.tick;
        // The index has room for twice the slots: no allocation.
        self.index.insert(b, i);
    }

    /// Takes clean slot `i` out of the table and returns its memory.
    pub fn remove(&mut self, i: usize) -> Box<[u8]> {
        self.vacate(i);
        let slot = self.slots.swap_remove(i);
        if let Some(b) = self.slots.get(i).and_then(|s| s.block) {
            self.index.insert(b, i);
        }
        slot.data
    }

    /// The bytes of slot `i`, to be written.
    pub fn data_mut(&mut self, i: usize) -> &mut [u8] {
        &mut self.slots[i].data
    }

    /// Marks the sectors of `mask` in slot `i` dirty.
    pub fn mark_dirty(&mut self, i: usize, mask: u64) {
        if self.slots[i].dirty == 0 && mask != 0 {
            self.dirty += 1;
        }
        self.slots[i].dirty |= mask;
    }

    /// Marks the sectors of `mask` in slot `i` clean (written back).
    pub fn mark_clean(&mut self, i: usize, mask: u64) {
        let was = self.slots[i].dirty;
        self.slots[i].dirty &= !mask;
        if was != 0 && self.slots[i].dirty == 0 {
            self.dirty -= 1;
        }
    }

    /// The dirty slot with the lowest block in `from..to`: (block, slot).
    pub fn lowest_dirty(&self, from: u64, to: u64) -> Option<(u64, usize)> {
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, s)| s.dirty != 0)
            .filter_map(|(i, s)| s.block.map(|b| (b, i)))
            .filter(|&(b, _)| b >= from && b < to)
            .min()
    }
}
