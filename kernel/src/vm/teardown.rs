//! `destroy` and `supplemental_page_table_kill`: taking pages out of a space
//! (munmap, exit, exec, the out-of-memory killer). A dirty file page is
//! written back first; the page gives back its frame share (leaving the
//! frame's reverse map; the frame is freed with its last share) or its swap
//! slot share.
use super::addr::{PageRef, SpaceId, UserPage};
use super::hw::{Hw, Table};
use super::space::Life;
use super::{Vm, VmError};

/// Pages [`Vm::destroy_pages_where`] takes from one scan of the SPT. One
/// page per scan made emptying a space quadratic: tearing down a 24 MiB
/// space (6,152 pages) took 4-7M cycles, 1-3M with batches.
const DESTROY_BATCH: usize = 64;

impl<H: Hw> Vm<H> {
    /// `destroy`: takes `page` out of space `id` (its entry, its mapping and
    /// what it holds). The caller invalidates cached translations afterwards.
    /// A write-back that fails is lost (exit and munmap have no one to tell).
    pub(super) fn destroy_page(&mut self, id: SpaceId, page: UserPage) {
        let r = PageRef { space: id, page };
        let Ok(space) = self.space_mut(id) else {
            return;
        };
        let pte = space.pt.clear(page);
        let Some(entry) = space.spt.find(page) else {
            return;
        };
        let writes_back = entry.writes_back_on_destroy(pte.is_some_and(|p| p.dirty));
        let frame = entry.resident().map(|res| res.frame.id());
        if let Some(frame) = frame {
            if writes_back {
                let _ = self.write_back(frame, r);
            }
            self.unlink(frame, r);
        }
        let Some(entry) = self.space_mut(id).ok().and_then(|s| s.spt.remove(page)) else {
            return;
        };
        let (resident, slot) = entry.destroy();
        if let Some(res) = resident
            && let Some(pa) = self.frames.release(res.frame)
        {
            self.hw.free_frame(pa);
        }
        if let Some(slot) = slot {
            self.swap.release(slot);
        }
    }

    /// Destroys every page of space `id` for which `pick` holds, a batch
    /// of [`DESTROY_BATCH`] found per scan of the SPT.
    pub(super) fn destroy_pages_where(&mut self, id: SpaceId, pick: impl Fn(UserPage) -> bool) {
        loop {
            let Ok(space) = self.space(id) else {
                return;
            };
            let batch = space.spt.pages_where::<DESTROY_BATCH>(&pick);
            if batch.is_empty() {
                return;
            }
            for page in batch {
                self.destroy_page(id, page);
            }
        }
    }

    /// `supplemental_page_table_kill`: destroys every page and region of
    /// space `id`; the space stays usable (empty).
    pub(super) fn kill(&mut self, id: SpaceId) {
        self.destroy_pages_where(id, |_| true);
        let mut loaded = false;
        if let Ok(space) = self.space_mut(id) {
            space.regions.clear();
            loaded = space.pt.is_loaded();
        }
        self.hw.flush_all(loaded);
    }

    /// Destroys space `id` entirely (exit, exec's old image, a failed load
    /// or fork): every page, then the page tables. Pages in use (pages
    /// resident, slots, frames) all go back.
    pub fn destroy_space(&mut self, id: SpaceId) -> Result<(), VmError> {
        self.retire_space(id).map(drop)
    }

    /// Destroys every page of space `id` and takes the space out, handing
    /// back its (now empty) page table for the caller to free: an exiting
    /// process keeps it loaded until it has switched away, which saves
    /// loading another one just to free this one. `Killed` if there is no
    /// such space.
    pub fn retire_space(&mut self, id: SpaceId) -> Result<H::Table, VmError> {
        self.space(id)?;
        self.kill(id);
        let space = self.spaces[id.0 as usize].take().ok_or(VmError::Killed)?;
        Ok(space.pt)
    }

    /// The out-of-memory killer's reap: empties space `id` now and marks it
    /// dead, so every later fault of its process fails and the process ends.
    pub(super) fn reap(&mut self, id: SpaceId) {
        self.kill(id);
        if let Ok(space) = self.space_mut(id) {
            space.life = Life::Dead;
        }
    }
}
