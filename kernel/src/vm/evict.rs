//! Eviction (`swap_out` for a batch): the clock chooses up to
//! [`EVICT_BATCH`] frames; each is unmapped from every page sharing it (one
//! TLB flush for the batch, before anything is written, so no process can
//! change a page being saved); then, by kind, clean pages are dropped (an
//! anonymous page read from swap goes back to its slot, the swap cache),
//! dirty file pages written back, and dirty anonymous pages written to
//! consecutive swap slots in one disk request. One freed frame is kept for the caller;
//! the rest go back to the pool. A page that cannot be saved is mapped again.
use super::addr::{PageRef, PhysAddr, SwapSlot};
use super::frame::FrameId;
use super::hw::{Hw, Table};
use super::page::SwapOut;
use super::region::Kind;
use super::rmap::for_each_sharer;
use super::{EVICT_BATCH, EVICT_BATCH_MIN, Vm, VmError};
use crate::profile::{self, SpanKind};
use arrayvec::ArrayVec;

/// Why a batch freed no frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvictError {
    /// The clock found no frame to take (every one pinned or none in use).
    NoVictim,
    /// Frames were chosen but none could be saved (swap full, I/O errors).
    NothingFreed,
}

impl<H: Hw> Vm<H> {
    /// The clock's next victim: a frame in use, not pinned, whose pages
    /// have not been accessed since the hand last passed (clearing the bits).
    fn clock_next(&mut self) -> Option<FrameId> {
        let Vm { frames, spaces, .. } = self;
        frames.choose_victim(|head| {
            let mut any = false;
            for_each_sharer(spaces, Some(head), |r, pt, _| {
                any |= pt.test_and_clear_accessed(r.page);
            });
            any
        })
    }

    /// Unmaps frame `id` from every page sharing it, folding each page
    /// table's dirty bit into the page; returns whether any sharer is
    /// dirty, and whether any is in the loaded space.
    fn unmap_all(&mut self, id: FrameId) -> (bool, bool) {
        let mut dirty = false;
        let mut loaded = false;
        let Vm {
            spaces,
            frames,
            swap,
            ..
        } = self;
        for_each_sharer(spaces, frames.head(id), |r, pt, page| {
            loaded |= pt.is_loaded();
            let pte = pt.clear(r.page);
            if let Some(res) = page.resident_mut() {
                res.dirty |= pte.is_some_and(|p| p.dirty);
                dirty |= res.dirty;
            }
            // A written page's cached slot is stale: free it for the batch.
            if let Some(stale) = page.take_stale_cache() {
                swap.release(stale);
            }
        });
        (dirty, loaded)
    }

    /// Maps frame `id` again in every page sharing it (a page that could
    /// not be saved): read-only when shared.
    pub(super) fn remap_all(&mut self, id: FrameId) {
        let pa = self.frames.pa(id);
        let shared = self.frames.shares(id) > 1;
        let head = self.frames.head(id);
        for_each_sharer(&mut self.spaces, head, |r, pt, page| {
            let prot = if shared {
                page.prot.read_only()
            } else {
                page.prot
            };
            // The page's own page table had this entry: no allocation.
            let _ = pt.map(r.page, pa, prot);
        });
    }

    /// Every page sharing frame `id` leaves memory (to `slot`, one share
    /// each, when given; else back to its cached slot or to be rebuilt from
    /// its origin); the frame is freed. Returns its address.
    fn drop_all(&mut self, id: FrameId, slot: Option<SwapSlot>) -> Option<PhysAddr> {
        let mut freed = None;
        let mut first = true;
        let Vm {
            spaces,
            frames,
            swap,
            ..
        } = self;
        let head = frames.head(id);
        for_each_sharer(spaces, head, |r, _, page| {
            let share = slot.map(|slot| {
                if core::mem::take(&mut first) {
                    swap.take(slot, r)
                } else {
                    swap.add_share(slot)
                }
            });
            let (frame, stale) = page.swapped_out(share);
            if let Some(frame) = frame {
                freed = frames.release(frame).or(freed);
            }
            if let Some(stale) = stale {
                swap.release(stale);
            }
        });
        freed
    }

    /// Frames one eviction takes: a sixteenth of the user pool, at least
    /// [`EVICT_BATCH_MIN`] and at most [`EVICT_BATCH`], so a small pool keeps
    /// most of its pages while a large one pays one disk request per many.
    fn evict_batch_size(&self) -> usize {
        (self.frames.len() / 16).clamp(EVICT_BATCH_MIN, EVICT_BATCH)
    }

    /// Evicts up to [`EVICT_BATCH`] frames chosen by the clock; keeps one
    /// freed frame for the caller and returns it with the page it held.
    pub(super) fn evict_batch(&mut self) -> Result<(PhysAddr, PageRef), EvictError> {
        let mut victims: ArrayVec<FrameId, EVICT_BATCH> = ArrayVec::new();
        let batch = self.evict_batch_size();
        while victims.len() < batch {
            let Some(id) = self.clock_next() else {
                break;
            };
            self.frames.pin(id);
            victims.push(id);
        }
        let Some(&first) = victims.first() else {
            return Err(EvictError::NoVictim);
        };
        let first_page = self.frames.head(first).ok_or(EvictError::NoVictim)?;
        // Unmap everything first and invalidate once for the batch.
        let mut loaded = false;
        let dirty: ArrayVec<bool, EVICT_BATCH> = victims
            .iter()
            .map(|&id| {
                let (dirty, in_loaded) = self.unmap_all(id);
                loaded |= in_loaded;
                dirty
            })
            .collect();
        self.hw.flush_all(loaded);

        let mut freed: ArrayVec<PhysAddr, EVICT_BATCH> = ArrayVec::new();
        let mut to_swap: ArrayVec<FrameId, EVICT_BATCH> = ArrayVec::new();
        for (&id, &d) in victims.iter().zip(&dirty) {
            let Some(head) = self.frames.head(id) else {
                continue;
            };
            let plan = self
                .page(head)
                .map_or(SwapOut::Drop, |p| p.swap_out_plan(d));
            let saved = match plan {
                SwapOut::Drop => true,
                SwapOut::ToFile => self.write_back(id, head).is_ok(),
                SwapOut::ToSwap => {
                    to_swap.push(id);
                    continue;
                }
            };
            if saved {
                freed.extend(self.drop_all(id, None));
            } else {
                self.remap_all(id);
            }
        }
        if !to_swap.is_empty() {
            self.write_to_swap(&to_swap, &mut freed);
        }
        for &id in &victims {
            self.frames.unpin(id);
        }
        let pool = self.frames.len();
        self.pressure.record(victims.len(), freed.len(), pool);
        let Some((&keep, rest)) = freed.split_first() else {
            return Err(EvictError::NothingFreed);
        };
        for &pa in rest {
            self.hw.free_frame(pa);
        }
        Ok((keep, first_page))
    }

    /// Writes the dirty file page `head` (and so the frame `id` it shares)
    /// back to its file.
    pub(super) fn write_back(&mut self, id: FrameId, head: PageRef) -> Result<(), VmError> {
        let pa = self.frames.pa(id);
        let Vm { hw, spaces, .. } = self;
        let space = spaces[head.space.0 as usize]
            .as_ref()
            .ok_or(VmError::Killed)?;
        let region = space.regions.find(head.page).ok_or(VmError::NoPage)?;
        let Kind::Mmap(mapping) = &region.kind else {
            return Err(VmError::NoPage);
        };
        let index = head.page.number() - region.start.number();
        let start = crate::arch::rdtsc();
        let result = mapping
            .write_page(index, hw.frame(pa))
            .map_err(|_| VmError::Io);
        let end = crate::arch::rdtsc();
        profile::span(SpanKind::FileWrite, space.pid, head.page.addr(), start, end);
        result
    }

    /// Writes the unmapped anonymous frames `ids` to swap: consecutive
    /// slots when a run is free, else free slots wherever they are, in one
    /// transfer (a request per run of consecutive slots, one notification).
    /// Frames written out are freed into `freed`; frames that could not be
    /// written (swap full, I/O error) are mapped again.
    fn write_to_swap(&mut self, ids: &[FrameId], freed: &mut ArrayVec<PhysAddr, EVICT_BATCH>) {
        let first = self.frames.head(ids[0]);
        let pid = first
            .and_then(|r| self.space(r.space).ok())
            .map_or(0, |s| s.pid);
        let start = crate::arch::rdtsc();
        if (self.swap.free_slots() as usize) < ids.len() {
            self.drop_swap_cache();
        }
        let mut pages: ArrayVec<(SwapSlot, PhysAddr), EVICT_BATCH> = ArrayVec::new();
        let run = self.swap.alloc_run(ids.len() as u32);
        for (i, pa) in ids.iter().map(|&id| self.frames.pa(id)).enumerate() {
            let slot = match run {
                Some(first) => SwapSlot(first.0 + i as u32),
                None => match self.swap.alloc() {
                    Some(slot) => slot,
                    None => break,
                },
            };
            pages.push((slot, pa));
        }
        let written = !pages.is_empty() && self.hw.swap_write(&pages).is_ok();
        if !written {
            for &(slot, _) in &pages {
                self.swap.unreserve(slot);
            }
        }
        let va = first.map_or(0, |r| r.page.addr());
        profile::span(SpanKind::SwapWrite, pid, va, start, crate::arch::rdtsc());
        for (i, &id) in ids.iter().enumerate() {
            match pages.get(i).filter(|_| written) {
                Some(&(slot, _)) => freed.extend(self.drop_all(id, Some(slot))),
                None => self.remap_all(id),
            }
        }
    }
}
