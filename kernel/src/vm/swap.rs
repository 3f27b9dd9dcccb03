//! The swap table: a bitmap of 4 KiB slots on the swap disk. A slot is taken
//! only when a page is evicted and freed when the page is read back or its
//! process ends.
use super::VmError;
use crate::dev::BlockDevice;
use alloc::vec::Vec;

/// Sectors per slot.
pub const SECTORS_PER_SLOT: u64 = abi::layout::PAGE_SIZE / abi::device::SECTOR_SIZE;

#[derive(Debug, Default)]
pub struct SlotBitmap {
    bits: Vec<u64>,
    total: u32,
    used: u32,
    /// Where the next search starts.
    hint: u32,
}

impl SlotBitmap {
    pub const fn empty() -> SlotBitmap {
        SlotBitmap {
            bits: Vec::new(),
            total: 0,
            used: 0,
            hint: 0,
        }
    }

    pub fn new(total: u32) -> SlotBitmap {
        SlotBitmap {
            bits: alloc::vec![0; (total as usize).div_ceil(64)],
            total,
            used: 0,
            hint: 0,
        }
    }

    pub fn total(&self) -> u32 {
        self.total
    }

    pub fn used(&self) -> u32 {
        self.used
    }

    fn is_set(&self, i: u32) -> bool {
        self.bits[i as usize / 64] & (1 << (i % 64)) != 0
    }

    /// Takes a free slot.
    pub fn alloc(&mut self) -> Option<u32> {
        if self.used == self.total {
            return None;
        }
        let mut i = self.hint;
        loop {
            if i >= self.total {
                i = 0;
            }
            let word = self.bits[i as usize / 64];
            if word == u64::MAX && i.is_multiple_of(64) {
                i += 64;
                continue;
            }
            if !self.is_set(i) {
                self.bits[i as usize / 64] |= 1 << (i % 64);
                self.used += 1;
                self.hint = i + 1;
                return Some(i);
            }
            i += 1;
        }
    }

    /// Takes `n` consecutive free slots (first fit); returns the first.
    pub fn alloc_run(&mut self, n: u32) -> Option<u32> {
        if n == 0 || self.total - self.used < n {
            return None;
        }
        let mut run = 0;
        for i in 0..self.total {
            run = if self.is_set(i) { 0 } else { run + 1 };
            if run == n {
                let first = i + 1 - n;
                for j in first..=i {
                    self.bits[j as usize / 64] |= 1 << (j % 64);
                }
                self.used += n;
                return Some(first);
            }
        }
        None
    }

    /// Returns a slot.
    pub fn free(&mut self, slot: u32) {
        assert!(
            slot < self.total && self.is_set(slot),
            "freeing swap slot {slot} that is not in use"
        );
        self.bits[slot as usize / 64] &= !(1 << (slot % 64));
        self.used -= 1;
    }
}

/// The swap disk, its slot bitmap and which page each slot holds.
pub struct Swap {
    slots: SlotBitmap,
    disk: Option<&'static BlockDevice>,
    /// The page (address space, address) whose contents each slot holds, for
    /// read-ahead of neighbouring slots.
    owners: Vec<Option<(super::SpaceId, u64)>>,
}

impl Swap {
    pub const fn empty() -> Swap {
        Swap {
            slots: SlotBitmap::empty(),
            disk: None,
            owners: Vec::new(),
        }
    }

    /// Swap over `disk` (none: no slots, only clean pages can be evicted).
    pub fn new(disk: Option<&'static BlockDevice>) -> Swap {
        let total = disk.map_or(0, |d| {
            (d.capacity() / SECTORS_PER_SLOT).min(u32::MAX as u64) as u32
        });
        Swap {
            slots: SlotBitmap::new(total),
            disk,
            owners: alloc::vec![None; total as usize],
        }
    }

    pub fn alloc(&mut self) -> Option<u32> {
        self.slots.alloc()
    }

    pub fn free(&mut self, slot: u32) {
        self.slots.free(slot);
        self.owners[slot as usize] = None;
    }

    /// Records that `slot` now holds the page `owner`.
    pub fn set_owner(&mut self, slot: u32, owner: (super::SpaceId, u64)) {
        self.owners[slot as usize] = Some(owner);
    }

    /// The page `slot` holds, if any.
    pub fn owner(&self, slot: u32) -> Option<(super::SpaceId, u64)> {
        self.owners.get(slot as usize).copied().flatten()
    }

    /// Reads the slots from `first` on into the frames at guest-physical
    /// `frames`, in one disk request.
    pub fn read_frames(&self, first: u32, frames: &[u64]) -> Result<(), VmError> {
        let disk = self.disk.ok_or(VmError::Io)?;
        disk.read_frames(first as u64 * SECTORS_PER_SLOT, frames)
            .map_err(|_| VmError::Io)
    }

    /// (slots in use, slots in total).
    pub fn usage(&self) -> (u32, u32) {
        (self.slots.used(), self.slots.total())
    }

    /// Reads slot `slot` into the page-sized `frame`.
    pub fn read(&self, slot: u32, frame: &mut [u8]) -> Result<(), VmError> {
        let disk = self.disk.ok_or(VmError::Io)?;
        disk.read(slot as u64 * SECTORS_PER_SLOT, frame)
            .map_err(|_| VmError::Io)
    }

    /// Takes `n` consecutive slots; returns the first.
    pub fn alloc_run(&mut self, n: u32) -> Option<u32> {
        self.slots.alloc_run(n)
    }

    /// Writes the frames at guest-physical `frames` to the slots from `first`
    /// on, in one disk request.
    pub fn write_frames(&self, first: u32, frames: &[u64]) -> Result<(), VmError> {
        let disk = self.disk.ok_or(VmError::Io)?;
        disk.write_frames(first as u64 * SECTORS_PER_SLOT, frames)
            .map_err(|_| VmError::Io)
    }

    /// Writes the page-sized `frame` to slot `slot`.
    pub fn write(&self, slot: u32, frame: &[u8]) -> Result<(), VmError> {
        let disk = self.disk.ok_or(VmError::Io)?;
        disk.write(slot as u64 * SECTORS_PER_SLOT, frame)
            .map_err(|_| VmError::Io)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_taken_and_returned() {
        let mut b = SlotBitmap::new(130);
        let slots: Vec<u32> = (0..130).map(|_| b.alloc().unwrap()).collect();
        assert_eq!(slots, (0..130).collect::<Vec<_>>());
        assert_eq!(b.alloc(), None);
        assert_eq!(b.used(), 130);
        b.free(64);
        b.free(3);
        let again = [b.alloc().unwrap(), b.alloc().unwrap()];
        assert!(again.contains(&64) && again.contains(&3));
        assert_eq!(b.alloc(), None);
    }

    #[test]
    fn runs_are_consecutive_and_first_fit() {
        let mut b = SlotBitmap::new(20);
        assert_eq!(b.alloc_run(8), Some(0));
        assert_eq!(b.alloc_run(8), Some(8));
        assert_eq!(b.alloc_run(8), None, "only 4 left");
        b.free(3);
        b.free(4);
        assert_eq!(b.alloc_run(2), Some(3), "the hole is reused");
        assert_eq!(b.alloc_run(4), Some(16));
        assert_eq!(b.used(), 20);
        assert_eq!(b.alloc_run(1), None);
        assert_eq!(b.alloc_run(0), None);
    }

    #[test]
    #[should_panic(expected = "not in use")]
    fn double_free_is_caught() {
        let mut b = SlotBitmap::new(8);
        let s = b.alloc().unwrap();
        b.free(s);
        b.free(s);
    }

    #[test]
    fn empty_swap_has_no_slots() {
        assert_eq!(SlotBitmap::new(0).alloc(), None);
    }
}
