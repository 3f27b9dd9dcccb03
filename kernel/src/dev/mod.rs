//! Devices: the virtio-mmio block devices the VMM lists in the boot
//! information, one holding the file system and one for swap.
//!
//! [`init`] probes every listed device once at boot; afterwards
//! [`fs_disk`] and [`swap_disk`] hand out the running devices.

pub mod blk_segments;
pub mod virtio_blk;
pub mod virtio_mmio;
pub mod virtqueue;

use alloc::boxed::Box;
use core::sync::atomic::{AtomicPtr, Ordering};

use abi::boot::{BootInfo, DeviceKind, MAX_DEVICES};
pub use virtio_blk::BlockDevice;

/// Why a block device cannot be used or a request failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockError {
    /// No such device (none listed, or an empty virtio-mmio slot).
    NoDevice,
    /// The register window is not a virtio-mmio v2 block device, or it
    /// misbehaved during setup.
    BadDevice,
    /// The device lacks a required feature or refused the accepted set.
    FeaturesRejected,
    /// No kernel page for the queue.
    OutOfMemory,
    /// The buffer length is not a multiple of the sector size.
    Unaligned,
    /// The request reaches past the end of the disk.
    OutOfRange,
    /// The device reported an I/O error.
    Io,
    /// The device does not support the request.
    Unsupported,
}

static FS_DISK: AtomicPtr<BlockDevice> = AtomicPtr::new(core::ptr::null_mut());
static SWAP_DISK: AtomicPtr<BlockDevice> = AtomicPtr::new(core::ptr::null_mut());

/// Probes each block device listed in `boot` and keeps the running ones.
/// Every device is tried; the first failure is returned. Devices already
/// brought up by an earlier call are left alone.
pub fn init(boot: &BootInfo) -> Result<(), BlockError> {
    let n = (boot.n_devices as usize).min(MAX_DEVICES);
    let mut result = Ok(());
    for info in &boot.devices[..n] {
        let slot = match info.kind {
            DeviceKind::FsDisk => &FS_DISK,
            DeviceKind::SwapDisk => &SWAP_DISK,
            DeviceKind::None => continue,
        };
        if !slot.load(Ordering::Acquire).is_null() {
            continue;
        }
        match BlockDevice::probe(info.mmio_base) {
            // A running device is never dropped: its queue page belongs to it
            // for as long as the VM lives.
            Ok(dev) => slot.store(Box::into_raw(Box::new(dev)), Ordering::Release),
            Err(e) => result = result.and(Err(e)),
        }
    }
    result
}

/// The file-system disk, once [`init`] brought it up.
pub fn fs_disk() -> Option<&'static BlockDevice> {
    get(&FS_DISK)
}

/// The swap disk, once [`init`] brought it up.
pub fn swap_disk() -> Option<&'static BlockDevice> {
    get(&SWAP_DISK)
}

fn get(slot: &AtomicPtr<BlockDevice>) -> Option<&'static BlockDevice> {
    let p = slot.load(Ordering::Acquire);
    // SAFETY: a non-null slot holds a leaked `Box<BlockDevice>` that is never
    // freed or replaced, so it is valid for 'static and only shared immutably.
    unsafe { p.as_ref() }
}
