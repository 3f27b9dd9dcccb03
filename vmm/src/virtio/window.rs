//! The devices' register windows as read-only guest memory: every register
//! the driver reads is kept, as the device would answer it, in one host page
//! per device that KVM maps read-only at the device's MMIO address. A read is
//! then an ordinary load, with no exit; a write still faults out to the VMM
//! (KVM turns writes to a read-only slot into MMIO exits), which applies it
//! and rewrites the page before the guest runs again.
//!
//! Setting a disk up reads about fifteen registers; each read was an exit to
//! this process, ~100K cycles on a PVM host. Without KVM_CAP_READONLY_MEM
//! the windows are not mapped and every access exits as before.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use anyhow::{Context, Result};
use kvm_ioctls::{Cap, Kvm, VmFd};
use vm_memory::{MmapRegion, VolatileMemory};

/// Bytes of one device's window (one page; the devices' MMIO stride).
pub const WINDOW_SIZE: usize = abi::device::VIRTIO_MMIO_SIZE as usize;

/// The windows of all devices, one page each from `VIRTIO_MMIO_BASE`.
pub struct RegisterWindows {
    region: Arc<MmapRegion<()>>,
    count: usize,
}

impl RegisterWindows {
    /// Pages for `count` devices, mapped into `vm` read-only at the devices'
    /// MMIO base as memory slot `slot`. `Ok(None)` when the host cannot map
    /// read-only memory (then register reads exit to the VMM); fails if the
    /// pages cannot be allocated or KVM refuses the slot.
    pub fn map(kvm: &Kvm, vm: &VmFd, slot: u32, count: usize) -> Result<Option<RegisterWindows>> {
        if count == 0 || !kvm.check_extension(Cap::ReadonlyMem) {
            return Ok(None);
        }
        let region = MmapRegion::new(count * WINDOW_SIZE)
            .context("cannot allocate the devices' register windows")?;
        crate::memory::register_readonly(
            vm,
            slot,
            abi::device::VIRTIO_MMIO_BASE,
            region.as_ptr(),
            region.size(),
        )?;
        Ok(Some(RegisterWindows {
            region: Arc::new(region),
            count,
        }))
    }

    /// Windows for `count` devices that no VM maps (host tests).
    #[cfg(test)]
    pub(crate) fn unmapped(count: usize) -> RegisterWindows {
        RegisterWindows {
            region: Arc::new(MmapRegion::new(count * WINDOW_SIZE).unwrap()),
            count,
        }
    }

    /// The word at `offset` of device `i`'s window, as the guest reads it
    /// (host tests).
    #[cfg(test)]
    pub(crate) fn word(&self, i: usize, offset: u64) -> u32 {
        self.region
            .get_atomic_ref::<AtomicU32>(i * WINDOW_SIZE + offset as usize)
            .unwrap()
            .load(Ordering::Acquire)
    }

    /// Device `i`'s window; `None` past the last device.
    pub fn window(&self, i: usize) -> Option<Window> {
        (i < self.count).then(|| Window {
            region: self.region.clone(),
            base: i * WINDOW_SIZE,
        })
    }
}

/// One device's register window, for its transport to keep up to date.
pub struct Window {
    region: Arc<MmapRegion<()>>,
    base: usize,
}

impl Window {
    /// Stores the 32-bit register at `offset` (a multiple of 4 inside the
    /// window; others are ignored) in one atomic write, so that the guest
    /// never reads half of an update.
    pub fn store(&self, offset: u64, value: u32) {
        let Ok(offset) = usize::try_from(offset) else {
            return;
        };
        if !offset.is_multiple_of(4) || offset >= WINDOW_SIZE {
            return;
        }
        if let Ok(word) = self.region.get_atomic_ref::<AtomicU32>(self.base + offset) {
            word.store(value, Ordering::Release);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_land_in_their_own_window_and_bad_offsets_are_ignored() {
        let windows = RegisterWindows::unmapped(2);
        let (a, b) = (windows.window(0).unwrap(), windows.window(1).unwrap());
        assert!(windows.window(2).is_none());
        a.store(0x70, 0xf);
        b.store(0x70, 0x7);
        b.store(0x71, 0xdead);
        b.store(WINDOW_SIZE as u64, 0xdead);
        assert_eq!(windows.word(0, 0x70), 0xf);
        assert_eq!(windows.word(1, 0x70), 0x7);
        assert_eq!(windows.word(1, 0x74), 0);
    }
}
