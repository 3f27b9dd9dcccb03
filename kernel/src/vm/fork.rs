//! `supplemental_page_table_copy` for `fork`, copy-on-write: the child gets
//! the parent's regions and an SPT entry for every page the parent has
//! touched, made by the page's kind ([`super::page::Page::fork`]): a page in
//! memory shares its frame (the child joins the frame's reverse map) and both
//! map it read-only if it is writable, so the first write by either copies
//! it; a page in swap shares its slot; a page not in memory stays lazy in
//! both. No page is copied at fork time.
//!
//! Sharing lets `fork` succeed where a copy would not fit, so it refuses
//! when memory is already short: unless at least [`fork_headroom`] frames
//! are free in the user pool or the swap disk, `fork` fails (-1) at once
//! rather than letting the new process be killed for lack of memory at its
//! first few writes (Pintos programs expect `fork` itself to fail).
use super::addr::{PageRef, SpaceId};
use super::hw::{Hw, Table};
use super::space::Space;
use super::{Vm, VmError};

/// The free frames plus free swap slots `fork` wants to see: a sixty-fourth
/// of the user pool, at least 16 (a new process's first writes: its stack,
/// its data, the pages it copies).
pub fn fork_headroom(pool_frames: usize) -> usize {
    (pool_frames / 64).max(16)
}

impl<H: Hw> Vm<H> {
    /// Fills the empty space `dst` with a copy-on-write copy of `src`;
    /// `OutOfMemory` at once when less than [`fork_headroom`] is free. On
    /// failure `dst` holds part of the copy (every share it took is recorded
    /// in its SPT) and the caller destroys it; `src` is unchanged but for its
    /// writable pages now being mapped read-only (their next write takes the
    /// frame back or copies it).
    pub fn fork_space(&mut self, src: SpaceId, dst: SpaceId) -> Result<(), VmError> {
        let headroom = fork_headroom(self.frames.len());
        let free = |vm: &Self| vm.hw.free_frames() + vm.swap.free_slots() as usize;
        if free(self) < headroom && (self.drop_swap_cache() == 0 || free(self) < headroom) {
            return Err(VmError::OutOfMemory);
        }
        let mut child = self.spaces[dst.0 as usize].take().ok_or(VmError::Killed)?;
        let result = self.copy_into(src, dst, &mut child);
        self.spaces[dst.0 as usize] = Some(child);
        // The parent's writable mappings were downgraded.
        let loaded = self.space(src).is_ok_and(|s| s.pt.is_loaded());
        self.hw.flush_all(loaded);
        result
    }

    fn copy_into(
        &mut self,
        src: SpaceId,
        dst: SpaceId,
        child: &mut Space<H::Table>,
    ) -> Result<(), VmError> {
        let Vm {
            spaces,
            frames,
            swap,
            ..
        } = self;
        let parent = spaces
            .get_mut(src.0 as usize)
            .and_then(Option::as_mut)
            .ok_or(VmError::Killed)?;
        child.regions = parent.regions.try_clone()?;
        child
            .spt
            .reserve(parent.spt.len())
            .map_err(|_| VmError::OutOfMemory)?;
        for (page, entry) in parent.spt.iter_mut() {
            let prot = entry.prot;
            if let Some(res) = entry.resident_mut()
                && prot.write
            {
                // Fold the hardware dirty bit in before the entry loses it,
                // then make the parent's mapping read-only.
                if parent.pt.lookup(page).is_some_and(|p| p.dirty) {
                    res.dirty = true;
                }
                let pa = frames.pa(res.frame.id());
                parent.pt.map(page, pa, prot.read_only())?;
            }
            let copy = entry.fork(PageRef { space: dst, page }, frames, swap);
            let mapped = copy.resident().map(|r| frames.pa(r.frame.id()));
            // Room was reserved, and the child had no entry: the insert cannot fail.
            if let Err((_, lost)) = child.spt.insert(page, copy) {
                super::report_bug("a reserved SPT insert failed");
                core::mem::forget(lost);
                return Err(VmError::OutOfMemory);
            }
            if let Some(pa) = mapped {
                child.pt.map(page, pa, prot.read_only())?;
            }
        }
        Ok(())
    }
}
