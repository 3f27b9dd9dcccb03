//! Memory-mapped device registers and the memory fences that order them.
//!
//! Device register windows (the virtio-mmio windows of the VMM) are reached
//! through the direct map: [`read32`]/[`write32`] take a guest-physical
//! address, translate it with [`crate::mm::phys_to_virt`] and do one volatile
//! 32-bit access, which the VMM sees as one MMIO exit. The fences order the kernel's accesses to memory shared with a
//! device (virtqueue rings) against each other and against these registers.

use core::sync::atomic::{Ordering, fence};

/// Reads the 32-bit register at guest-physical address `pa`.
pub fn read32(pa: u64) -> u32 {
    let va = crate::mm::phys_to_virt(pa) as *const u32;
    // SAFETY: `pa` is a 4-byte-aligned register of a device window that the
    // direct map covers; a volatile read has no effect on Rust-visible memory.
    unsafe { core::ptr::read_volatile(va) }
}

/// Writes `value` to the 32-bit register at guest-physical address `pa`.
pub fn write32(pa: u64, value: u32) {
    let va = crate::mm::phys_to_virt(pa) as *mut u32;
    // SAFETY: as in `read32`; the register window belongs to the device, not
    // to any Rust object, so the write cannot alias kernel data.
    unsafe { core::ptr::write_volatile(va, value) }
}

/// Full fence: earlier loads and stores complete before later ones (`mfence`).
/// Needed between publishing work to a device and reading its flags.
pub fn mb() {
    fence(Ordering::SeqCst);
}

/// Store fence: earlier stores become visible before later ones. On x86
/// stores are already ordered, so this only stops the compiler reordering.
pub fn wmb() {
    fence(Ordering::Release);
}

/// Load fence: earlier loads complete before later ones (compiler-only on x86).
pub fn rmb() {
    fence(Ordering::Acquire);
}
