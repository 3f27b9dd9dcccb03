//! The reverse map of a frame: the list of pages sharing it, threaded
//! through the pages ([`super::page::Resident::next`]) from the head the
//! frame table keeps. Eviction walks it to unmap a shared frame from every
//! sharer; copy-on-write and teardown unlink one page from it.
use super::Vm;
use super::addr::PageRef;
use super::frame::FrameId;
use super::hw::{Hw, Table};
use super::page::Page;
use super::space::Space;

/// Calls `f` on the page table and SPT entry of every page of the reverse
/// map that starts at `head` (each page's successor is read before `f`
/// runs, so `f` may take the page out of memory).
pub(super) fn for_each_sharer<T: Table>(
    spaces: &mut [Option<Space<T>>],
    head: Option<PageRef>,
    mut f: impl FnMut(PageRef, &mut T, &mut Page),
) {
    let mut cur = head;
    while let Some(r) = cur {
        let Some(space) = spaces.get_mut(r.space.0 as usize).and_then(Option::as_mut) else {
            return;
        };
        let Some(page) = space.spt.find_mut(r.page) else {
            return;
        };
        cur = page.resident().and_then(|res| res.next);
        f(r, &mut space.pt, page);
    }
}

impl<H: Hw> Vm<H> {
    /// Takes page `r` (which holds a share of frame `id`) out of the
    /// frame's reverse map; its own `next` is cleared.
    pub(super) fn unlink(&mut self, id: FrameId, r: PageRef) {
        let next = self
            .page_mut(r)
            .and_then(|p| p.resident_mut())
            .and_then(|res| res.next.take());
        if self.frames.head(id) == Some(r) {
            self.frames.set_head(id, next);
            return;
        }
        let mut cur = self.frames.head(id);
        while let Some(c) = cur {
            let Some(res) = self.page_mut(c).and_then(|p| p.resident_mut()) else {
                break;
            };
            if res.next == Some(r) {
                res.next = next;
                return;
            }
            cur = res.next;
        }
        super::report_bug("a page missing from its frame's reverse map");
    }
}
