//! Anonymous pages: `swap_in` reads the page back from its swap slot (and
//! frees the slot), `swap_out` writes it to a new slot, or drops it when it
//! still equals its origin (an unmodified executable or zero page), and
//! `destroy` frees the slot.
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

/// What became of an evicted anonymous page.
pub enum SwappedOut {
    /// Written to this slot.
    Slot(u32),
    /// Unmodified since it was built: rebuild from its origin next time.
    Dropped(Initializer),
}

/// Saves the page (unmapped already) from `frame`; `dirty` says whether it
/// was written since it was filled.
pub fn swap_out(
    anon: &mut Anon,
    frame: &[u8],
    dirty: bool,
    swap: &mut Swap,
) -> Result<SwappedOut, VmError> {
    if !dirty && let Some(origin) = anon.origin.take() {
        return Ok(SwappedOut::Dropped(origin));
    }
    anon.origin = None;
    let slot = swap.alloc().ok_or(VmError::SwapFull)?;
    if let Err(e) = swap.write(slot, frame) {
        swap.free(slot);
        return Err(e);
    }
    anon.slot = Some(slot);
    Ok(SwappedOut::Slot(slot))
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
