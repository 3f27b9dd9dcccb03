//! Anonymous pages: `swap_out` decides between dropping the page (it still
//! equals its origin: an unmodified executable or zero page) and writing it
//! to a slot; `swap_in` frees the slot once the page is read back; `destroy`
//! frees the slot of a page that is not resident. The VM does the disk I/O
//! itself, for several pages of consecutive slots at once.
use super::page::{Anon, Kind};
use super::swap::Swap;
use super::uninit::Initializer;

/// `anon_swap_in`, last step: the page's contents were read back from its
/// slot (the VM reads several neighbouring slots in one request), which is
/// freed.
pub fn swapped_in(anon: &mut Anon, swap: &mut Swap) {
    if let Some(slot) = anon.slot.take() {
        swap.free(slot);
    }
}

/// What `swap_out` must do with an evicted anonymous page.
pub enum SwapOut {
    /// Unmodified since it was built: drop it, rebuild from this next time.
    Drop(Initializer),
    /// Write it to a swap slot (the caller batches these into one request).
    Write,
}

/// `anon_swap_out`, first step: decides what becomes of the (unmapped)
/// page; `dirty` says whether it was written since it was filled.
pub fn swap_out(anon: &mut Anon, dirty: bool) -> SwapOut {
    match anon.origin.take() {
        Some(origin) if !dirty => SwapOut::Drop(origin),
        _ => SwapOut::Write,
    }
}

/// `anon_swap_out`, last step: the page's contents are now in `slot`.
pub fn swapped_out(anon: &mut Anon, slot: u32) {
    anon.slot = Some(slot);
    anon.origin = None;
}

/// Releases what a non-resident anonymous page holds.
pub fn destroy(kind: &Kind, swap: &mut Swap) {
    if let Kind::Anon(Anon {
        slot: Some(slot), ..
    }) = kind
    {
        swap.free(*slot);
    }
}
