//! The swap cache: an anonymous page read back from swap keeps its share of
//! the slot while it stays clean ([`super::anon::AnonPage`]), so evicting it
//! again costs no disk write, and pages read ahead that were never used go
//! back for nothing. On a PVM host every disk request is an exit to the VMM
//! process, the dearest event there is, so this halves the requests of a
//! workload that reads more than it writes.
//!
//! The cache borrows swap space: a cached slot is in use while its page is
//! in memory. It gives it back in three ways, so that the pages memory plus
//! swap can hold are never fewer than without it:
//! - a page seen written (eviction folds the page table's dirty bit in;
//!   kernel writes mark the page) gives up its stale slot at once;
//! - when eviction needs slots the disk no longer has, every clean page
//!   gives up its cached slot ([`Vm::drop_swap_cache`]; the pages count as
//!   dirty from then on, their bytes being nowhere else);
//! - `fork`'s check of free memory counts cached slots as free (it drops
//!   the cache when it would otherwise refuse).
use super::hw::Hw;
use super::page::Source;
use super::{SpaceId, UserPage, Vm};
use alloc::vec::Vec;

impl<H: Hw> Vm<H> {
    /// Takes every clean resident page's cached slot back (the swap disk is
    /// full); returns how many shares were given back. Walks every page of
    /// every space, which only a full swap disk makes it do, and only when
    /// pages were read from swap since the last walk (none can hold a
    /// cached slot otherwise: a swap-in is the only way in).
    pub(super) fn drop_swap_cache(&mut self) -> usize {
        if !core::mem::take(&mut self.cache_filled) {
            return 0;
        }
        let Vm { spaces, swap, .. } = self;
        let mut dropped = 0;
        for space in spaces.iter_mut().flatten() {
            for (_, page) in space.spt.iter_mut() {
                if let Some(share) = page.drop_cache() {
                    swap.release(share);
                    dropped += 1;
                }
            }
        }
        dropped
    }

    /// Slots in use that only the swap cache holds (no swapped page shares
    /// them): what the memory statistics leave out of the memory in use.
    /// Walks every page with a bitmap per kind; 0 when kernel memory for
    /// the bitmaps is short (the figure is a statistic).
    pub fn cached_slots(&self) -> u32 {
        let total = self.swap.usage().1 as usize;
        let Some((mut cached, mut swapped)) = bitmap(total).zip(bitmap(total)) else {
            return 0;
        };
        for space in self.spaces.iter().flatten() {
            for (_, page) in space.spt.iter() {
                let (set, slot) = match (page.cached_slot(), page.fill_source()) {
                    (Some(slot), _) => (&mut cached, slot),
                    (None, Source::Swap(slot)) => (&mut swapped, slot),
                    (None, Source::Origin) => continue,
                };
                let i = slot.0 as usize;
                if let Some(word) = set.get_mut(i / 64) {
                    *word |= 1 << (i % 64);
                }
            }
        }
        let only_cached = cached.iter().zip(&swapped).map(|(c, s)| c & !s);
        only_cached.map(u64::count_ones).sum()
    }

    /// Marks `page` of space `id` as modified by the kernel (which writes
    /// user pages through the direct map, so the hardware dirty bit stays
    /// clear); a cached slot it had is stale now and given back.
    pub(super) fn mark_written(&mut self, id: SpaceId, page: UserPage) {
        let Vm { spaces, swap, .. } = self;
        let Some(entry) = spaces
            .get_mut(id.0 as usize)
            .and_then(Option::as_mut)
            .and_then(|s| s.spt.find_mut(page))
        else {
            return;
        };
        if let Some(res) = entry.resident_mut() {
            res.dirty = true;
        }
        if let Some(stale) = entry.take_stale_cache() {
            swap.release(stale);
        }
    }
}

/// A zeroed bitmap of `bits` bits, or `None` when the heap is short.
fn bitmap(bits: usize) -> Option<Vec<u64>> {
    let mut v = Vec::new();
    v.try_reserve_exact(bits.div_ceil(64)).ok()?;
    v.resize(bits.div_ceil(64), 0);
    Some(v)
}
