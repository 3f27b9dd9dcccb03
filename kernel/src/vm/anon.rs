//! Anonymous pages: `swap_in` reads the page back from its swap slot (and
//! frees the slot), `swap_out` decides between dropping the page (it still
//! equals its origin: an unmodified executable or zero page) and writing it
//! to a slot (which the VM does for a batch of pages at once), and `destroy`
//! frees the slot.
use super::VmError;
use super::page::{Anon, Kind};
use super::swap::Swap;
use super::uninit::Initializer;

/// Reads the page's contents into `frame` (`zeroed`: it holds only zeros).
pub fn swap_in(
    anon: &mut Anon,
    frame: &mut [u8],
    zeroed: bool,
    swap: &mut Swap,
) -> Result<(), VmError> {
    match anon.slot {
        Some(slot) => {
            swap.read(slot, frame)?;
            swap.free(slot);
            anon.slot = None;
        }
        // Resident pages are never swapped in; a page without a slot holds zeros.
        None if !zeroed => frame.fill(0),
        None => {}
    }
    Ok(())
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
