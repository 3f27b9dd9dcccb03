//! `vm_do_claim_page`: gives a page that is not in memory a frame, fills it
//! (`swap_in`: from its origin, or from its swap slot with read-ahead,
//! keeping the slot while the page stays clean), maps it, and only then
//! records it as resident, so a failure at any step leaves the page as it
//! was. Also `vm_get_frame`: a frame from the user pool, by eviction, or
//! after the out-of-memory killer freed one.
use super::addr::{PageRef, PhysAddr, SpaceId, SwapSlot, UserPage};
use super::evict::EvictError;
use super::hw::{Hw, Table};
use super::page::{Resident, Source};
use super::read_ahead::ReadSet;
use super::{EVICT_BATCH_MIN, Vm, VmError};
use crate::profile::{self, FaultTimer, SpanKind, Stage};

impl<H: Hw> Vm<H> {
    /// `vm_get_frame`: a frame for a page of space `requester`, from the
    /// user pool or by evicting other pages, and whether it is known to hold
    /// only zeros. When nothing can be evicted, or reclaim has stopped making
    /// progress ([`super::oom`]), the out-of-memory killer reaps the largest
    /// process and the search goes on; `OutOfMemory` when the requester is
    /// the one chosen.
    pub(super) fn get_frame(&mut self, requester: SpaceId) -> Result<(PhysAddr, bool), VmError> {
        // Each round either returns or kills a process (there are finitely
        // many) or evicts a batch; bound the rounds all the same.
        let rounds = 2 * (self.frames.len() / EVICT_BATCH_MIN + self.spaces.len() + 2);
        for _ in 0..rounds {
            if let Some(got) = self.hw.alloc_frame() {
                return Ok(got);
            }
            if self.pressure.stalled() {
                self.pressure.reset();
                self.out_of_memory(requester)?;
                continue;
            }
            let start = crate::arch::rdtsc();
            match self.evict_batch() {
                Ok((pa, victim)) => {
                    let pid = self.space(victim.space).map_or(0, |s| s.pid);
                    let end = crate::arch::rdtsc();
                    profile::span(SpanKind::Evict, pid, victim.page.addr(), start, end);
                    return Ok((pa, false));
                }
                // A batch that freed nothing (its writes failed) moved the
                // clock on: try the next one.
                Err(EvictError::NothingFreed) => continue,
                Err(EvictError::NoVictim) => self.out_of_memory(requester)?,
            }
        }
        if let Some(got) = self.hw.alloc_frame() {
            return Ok(got);
        }
        self.out_of_memory(requester)?;
        self.hw.alloc_frame().ok_or(VmError::OutOfMemory)
    }

    /// `vm_do_claim_page`: makes `page` of space `id` (which has an SPT
    /// entry) resident and mapped; returns its frame. On failure the page is
    /// as it was and everything taken is given back.
    pub(super) fn claim(
        &mut self,
        id: SpaceId,
        page: UserPage,
        timer: &mut FaultTimer,
    ) -> Result<PhysAddr, VmError> {
        let entry = self.space(id)?.spt.find(page).ok_or(VmError::NoPage)?;
        if let Some(r) = entry.resident() {
            return Ok(self.frames.pa(r.frame.id()));
        }
        let source = entry.fill_source();
        let (pa, zeroed) = self.get_frame(id)?;
        timer.stage(Stage::FrameAlloc);
        let result = match source {
            Source::Origin => self.fill(id, page, pa, zeroed),
            Source::Swap(slot) => self.swap_in_run(id, page, pa, slot),
        };
        timer.stage(Stage::Fill);
        match result {
            Ok(()) => Ok(pa),
            Err(e) => {
                self.hw.free_frame(pa);
                Err(e)
            }
        }
    }

    /// Fills the free frame `pa` with the origin of `page` (zeros, the
    /// executable's or the file's bytes), maps it and makes the page resident.
    fn fill(
        &mut self,
        id: SpaceId,
        page: UserPage,
        pa: PhysAddr,
        zeroed: bool,
    ) -> Result<(), VmError> {
        let Vm { hw, spaces, .. } = self;
        let space = spaces[id.0 as usize].as_mut().ok_or(VmError::Killed)?;
        let region = space.regions.find(page).ok_or(VmError::NoPage)?;
        let reads = region.reads_file(page);
        let start = crate::arch::rdtsc();
        super::uninit::initialize(region, page, hw.frame(pa), zeroed).map_err(|_| VmError::Io)?;
        if reads {
            profile::span(
                SpanKind::FileRead,
                space.pid,
                page.addr(),
                start,
                crate::arch::rdtsc(),
            );
        }
        self.install(id, page, pa)
    }

    /// Maps the filled frame `pa` at `page` with the page's rights and
    /// records the page as resident and clean (a page read from swap keeps
    /// its slot as the swap cache). Nothing changes on failure.
    fn install(&mut self, id: SpaceId, page: UserPage, pa: PhysAddr) -> Result<(), VmError> {
        let r = PageRef { space: id, page };
        let Vm { spaces, frames, .. } = self;
        let space = spaces[id.0 as usize].as_mut().ok_or(VmError::Killed)?;
        let entry = space.spt.find_mut(page).ok_or(VmError::NoPage)?;
        space.pt.map(page, pa, entry.prot)?;
        let frame = frames.take(pa, r);
        frames.unpin(frame.id());
        entry.swapped_in(Resident {
            frame,
            dirty: false,
            next: None,
        });
        Ok(())
    }

    /// `anon_swap_in` with read-ahead ([`super::read_ahead`]): reads the
    /// page from `slot` into `pa` together with, each into a free frame
    /// (read-ahead never evicts), up to the space's `swap_window` pages in
    /// all (32 while its swap-ins come near each other, down to 4 while
    /// they land at random):
    /// - the pages of the same space in the slots right after `slot`
    ///   (written out with it): a slot's single page, or for a slot shared
    ///   since a fork the page as far above or below `page` as the slot is
    ///   after `slot`;
    /// - then the pages next to `page` that are in swap, wherever their
    ///   slots are: right above it (an array read in address order), or
    ///   right below it when the space's last swap-in was a little above
    ///   (an array read backwards).
    ///
    /// The reads go to the disk in one transfer (a request per run of
    /// consecutive slots, one notification). Pages read ahead are mapped
    /// not accessed, so the clock takes them back first if they stay unused;
    /// every page read keeps its slot (the swap cache), so one evicted again
    /// unwritten costs no disk write.
    fn swap_in_run(
        &mut self,
        id: SpaceId,
        page: UserPage,
        pa: PhysAddr,
        slot: SwapSlot,
    ) -> Result<(), VmError> {
        let (descending, window) = self.swap_in_pattern(id, page);
        let mut set = ReadSet::new(window);
        set.push(slot, page, pa);
        self.read_ahead_by_slot(id, page, slot, &mut set);
        self.read_ahead_by_address(id, page, descending, &mut set);
        set.sort_by_slot();
        let start = crate::arch::rdtsc();
        let read = self.hw.swap_read(&set.io);
        // The pages read keep their slots: the cache may hold some now.
        self.cache_filled = true;
        let pid = self.space(id).map_or(0, |s| s.pid);
        profile::span(
            SpanKind::SwapRead,
            pid,
            page.addr(),
            start,
            crate::arch::rdtsc(),
        );
        let ahead = || set.pages.iter().zip(&set.io).filter(|e| *e.0 != page);
        if read.is_err() {
            for (_, &(_, frame)) in ahead() {
                self.hw.free_frame(frame);
            }
            return Err(VmError::Io);
        }
        // The faulting page first: its failure fails the fault. A page read
        // ahead that cannot be mapped stays in its slot.
        let first = self.install(id, page, pa);
        for (&p, &(_, frame)) in ahead() {
            if self.install(id, p, frame).is_err() {
                self.hw.free_frame(frame);
            }
        }
        // On failure the caller frees `pa`.
        first
    }
}
