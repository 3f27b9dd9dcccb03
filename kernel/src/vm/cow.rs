//! Copy-on-write: a write fault on a present, read-only mapping of a
//! writable page whose frame `fork` shared. The last sharer takes the frame
//! over (it is mapped writable again); any other sharer gets a private copy
//! in a new frame and gives its share of the old one back.
use super::addr::{PageRef, UserPage};
use super::hw::{Hw, Table};
use super::page::Resident;
use super::{SpaceId, Vm, VmError};
use crate::profile::{FaultTimer, Stage};

impl<H: Hw> Vm<H> {
    /// Resolves a write to the shared page `page` of space `id`. On failure
    /// (no frame, no page-table memory) the page still maps the shared frame
    /// read-only.
    pub(super) fn copy_on_write(
        &mut self,
        id: SpaceId,
        page: UserPage,
        timer: &mut FaultTimer,
    ) -> Result<(), VmError> {
        let r = PageRef { space: id, page };
        let entry = self.space(id)?.spt.find(page).ok_or(VmError::NoPage)?;
        let prot = entry.prot;
        let old = entry.resident().ok_or(VmError::NoPage)?.frame.id();
        let old_pa = self.frames.pa(old);
        if self.frames.shares(old) == 1 {
            // The last sharer: the frame is this page's alone now.
            let space = self.space_mut(id)?;
            space.pt.map(page, old_pa, prot)?;
            space.pt.flush(page);
            timer.stage(Stage::Map);
            return Ok(());
        }
        self.frames.pin(old);
        let got = self.get_frame(id);
        self.frames.unpin(old);
        let (pa, _) = got?;
        timer.stage(Stage::FrameAlloc);
        self.hw.copy_frame(pa, old_pa);
        timer.stage(Stage::Fill);
        let space = self.space_mut(id)?;
        if let Err(e) = space.pt.map(page, pa, prot) {
            self.hw.free_frame(pa);
            return Err(e.into());
        }
        space.pt.flush(page);
        let frame = self.frames.take(pa, r);
        self.frames.unpin(frame.id());
        self.unlink(old, r);
        let entry = self
            .space_mut(id)?
            .spt
            .find_mut(page)
            .and_then(|p| p.resident_mut())
            .ok_or(VmError::NoPage)?;
        let dirty = entry.dirty;
        let shared = core::mem::replace(
            entry,
            Resident {
                frame,
                dirty,
                next: None,
            },
        );
        if let Some(pa) = self.frames.release(shared.frame) {
            // Another sharer went away meanwhile: this was the last share.
            self.hw.free_frame(pa);
        }
        Ok(())
    }
}
