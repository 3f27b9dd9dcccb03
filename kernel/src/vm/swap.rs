//! The swap table: a bitmap of 4 KiB slots on the swap disk, with a share
//! count per slot. A slot is taken only when a page is evicted and freed when
//! its last page is read back or destroyed. The disk I/O itself goes through
//! [`super::hw::Hw`].
use super::addr::{PageRef, SwapSlot};
use alloc::vec::Vec;

/// Which swap slots are taken: a bit per slot.
#[derive(Debug, Default)]
pub struct SlotBitmap {
    bits: Vec<u64>,
    total: u32,
    used: u32,
    /// Where the next search starts.
    hint: u32,
}

impl SlotBitmap {
    /// A bitmap of no slots (no swap disk, or before boot).
    pub const fn empty() -> SlotBitmap {
        SlotBitmap {
            bits: Vec::new(),
            total: 0,
            used: 0,
            hint: 0,
        }
    }

    /// A bitmap of `total` free slots; `None` when its words cannot be allocated.
    pub fn new(total: u32) -> Option<SlotBitmap> {
        let words = (total as usize).div_ceil(64);
        let mut bits = Vec::new();
        bits.try_reserve_exact(words).ok()?;
        bits.resize(words, 0);
        Some(SlotBitmap {
            bits,
            total,
            used: 0,
            hint: 0,
        })
    }

    /// The number of slots.
    pub fn total(&self) -> u32 {
        self.total
    }

    /// The number of slots taken.
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

/// One share of a swap slot, held by a page whose bytes are in that slot.
/// After `fork` several pages may share a slot; the slot is freed with its
/// last share. Shares go back through [`Swap::release`], never dropped.
#[derive(Debug, PartialEq, Eq)]
#[must_use = "a swap-slot share must be released through the swap table"]
pub struct SlotShare(SwapSlot);

impl SlotShare {
    /// The slot this share is of.
    pub fn slot(&self) -> SwapSlot {
        self.0
    }
}

impl Drop for SlotShare {
    fn drop(&mut self) {
        crate::vm::report_bug("a swap-slot share was dropped without being released");
    }
}

/// Kernel memory the swap table spends per slot (bitmap bit rounded up).
pub const SLOT_BYTES: usize =
    1 + core::mem::size_of::<u16>() + core::mem::size_of::<Option<PageRef>>();

/// The swap table: which slots are taken, how many pages share each, and
/// which page a slot holds while exactly one does (for read-ahead).
pub struct Swap {
    slots: SlotBitmap,
    shares: Vec<u16>,
    owners: Vec<Option<PageRef>>,
}

impl Swap {
    /// A table of no slots (before boot).
    pub const fn empty() -> Swap {
        Swap {
            slots: SlotBitmap::empty(),
            shares: Vec::new(),
            owners: Vec::new(),
        }
    }

    /// A table for a swap disk of `total` slots (boot time; 0: no swap
    /// disk), spending at most `budget` bytes of kernel memory: when the
    /// whole disk's table would not fit, or its allocation fails, the table
    /// covers fewer slots (halving until it fits, possibly none) and the rest
    /// of the disk stays unused. [`Swap::usage`] gives the slots covered.
    pub fn new(total: u32, budget: usize) -> Swap {
        let affordable = u32::try_from(budget / SLOT_BYTES).unwrap_or(u32::MAX);
        let mut n = total.min(affordable);
        loop {
            if let Some(swap) = Swap::try_new(n) {
                return swap;
            }
            n /= 2;
        }
    }

    /// A table of exactly `n` slots, or `None` when kernel memory is short.
    fn try_new(n: u32) -> Option<Swap> {
        let slots = SlotBitmap::new(n)?;
        let mut shares = Vec::new();
        shares.try_reserve_exact(n as usize).ok()?;
        shares.resize(n as usize, 0);
        let mut owners = Vec::new();
        owners.try_reserve_exact(n as usize).ok()?;
        owners.resize(n as usize, None);
        Some(Swap {
            slots,
            shares,
            owners,
        })
    }

    /// `n` consecutive free slots, reserved; returns the first.
    pub fn alloc_run(&mut self, n: u32) -> Option<SwapSlot> {
        self.slots.alloc_run(n).map(SwapSlot)
    }

    /// One free slot, reserved.
    pub fn alloc(&mut self) -> Option<SwapSlot> {
        self.slots.alloc().map(SwapSlot)
    }

    /// Returns a reserved slot that was never given to a page (its write failed).
    pub fn unreserve(&mut self, slot: SwapSlot) {
        debug_assert_eq!(self.shares[slot.0 as usize], 0);
        self.slots.free(slot.0);
    }

    /// The first share of reserved `slot`, now holding page `owner`.
    pub fn take(&mut self, slot: SwapSlot, owner: PageRef) -> SlotShare {
        self.shares[slot.0 as usize] = 1;
        self.owners[slot.0 as usize] = Some(owner);
        SlotShare(slot)
    }

    /// Another share of `share`'s slot (a forked page); the slot no longer
    /// belongs to a single page, so it is not read ahead.
    pub fn share(&mut self, share: &SlotShare) -> SlotShare {
        self.add_share(share.0)
    }

    /// Another share of `slot`, which a page already holds a share of (the
    /// pages of a shared frame evicted together).
    pub fn add_share(&mut self, slot: SwapSlot) -> SlotShare {
        let i = slot.0 as usize;
        debug_assert!(self.shares[i] > 0, "sharing a free slot");
        self.shares[i] += 1;
        self.owners[i] = None;
        SlotShare(slot)
    }

    /// Gives back one share; the slot is freed with the last one.
    pub fn release(&mut self, share: SlotShare) {
        let slot = share.0;
        core::mem::forget(share);
        let i = slot.0 as usize;
        self.shares[i] -= 1;
        if self.shares[i] == 0 {
            self.owners[i] = None;
            self.slots.free(slot.0);
        }
    }

    /// Shares of `slot`.
    pub fn shares(&self, slot: SwapSlot) -> u16 {
        self.shares.get(slot.0 as usize).copied().unwrap_or(0)
    }

    /// The page `slot` holds, when exactly one page does.
    pub fn owner(&self, slot: SwapSlot) -> Option<PageRef> {
        self.owners.get(slot.0 as usize).copied().flatten()
    }

    /// (slots in use, slots in total).
    pub fn usage(&self) -> (u32, u32) {
        (self.slots.used(), self.slots.total())
    }

    /// Free slots.
    pub fn free_slots(&self) -> u32 {
        self.slots.total() - self.slots.used()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_taken_and_returned() {
        let mut b = SlotBitmap::new(130).unwrap();
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
        let mut b = SlotBitmap::new(20).unwrap();
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
        let mut b = SlotBitmap::new(8).unwrap();
        let s = b.alloc().unwrap();
        b.free(s);
        b.free(s);
    }

    #[test]
    fn empty_swap_has_no_slots() {
        assert_eq!(SlotBitmap::new(0).unwrap().alloc(), None);
    }

    #[test]
    fn shared_slots_are_freed_with_their_last_share() {
        use crate::vm::addr::{SpaceId, UserPage};
        let owner = PageRef {
            space: SpaceId(1),
            page: UserPage::from_number(7),
        };
        let mut swap = Swap::new(4, usize::MAX);
        let slot = swap.alloc().unwrap();
        let a = swap.take(slot, owner);
        assert_eq!(swap.owner(slot), Some(owner));
        let b = swap.share(&a);
        assert_eq!(swap.shares(slot), 2);
        assert_eq!(swap.owner(slot), None, "a shared slot is not read ahead");
        swap.release(a);
        assert_eq!(swap.usage(), (1, 4));
        swap.release(b);
        assert_eq!(swap.usage(), (0, 4));
        assert_eq!(swap.free_slots(), 4);
    }

    #[test]
    fn the_table_covers_what_the_budget_allows() {
        assert_eq!(Swap::new(1000, usize::MAX).usage(), (0, 1000));
        assert_eq!(Swap::new(1000, 100 * SLOT_BYTES).usage(), (0, 100));
        assert_eq!(Swap::new(1000, 0).usage(), (0, 0));
    }
}
