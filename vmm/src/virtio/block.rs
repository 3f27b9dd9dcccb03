//! The virtio block device: request parsing and validation, execution against a
//! [`Backend`](super::backend::Backend), queue draining, and serving a queue notification.
//!
//! The VMM serves a disk's requests at the notifying MMIO exit, on the vCPU
//! thread ([`Disk::serve_now`]): the backends are host memory or files in the
//! host's page cache, so a request is a copy of a few microseconds, far less
//! than waking another thread for it (measured on a PVM host: the swap-heavy
//! guest tests ran with 10 to 25% less CPU time inline than through an
//! ioeventfd and a device thread; a device thread, even one never woken,
//! costs ~0.1 ms of every run to start and join). The driver polls the used
//! ring and sets `VRING_AVAIL_F_NO_INTERRUPT`, which the device honours: an
//! irqfd write per request cost more than the request itself.

mod chain;
mod device;
mod disk;
#[cfg(test)]
mod tests;

pub use chain::{Completion, handle_chain};
pub use device::{BlockDevice, Counters, Drain};
pub use disk::Disk;

/// virtio device id of a block device.
pub const VIRTIO_ID_BLOCK: u32 = 2;
/// Length of the request header (type, reserved, sector).
pub const HEADER_LEN: u32 = 16;
/// Length of a device id returned by GET_ID.
pub const ID_LEN: usize = 20;

/// Request types.
pub mod req {
    /// Read sectors into the chain's writable buffers (`VIRTIO_BLK_T_IN`).
    pub const IN: u32 = 0;
    /// Write the chain's buffers to sectors (`VIRTIO_BLK_T_OUT`).
    pub const OUT: u32 = 1;
    /// Write the device's id string (`VIRTIO_BLK_T_GET_ID`).
    pub const GET_ID: u32 = 8;
}

/// Request status byte values.
pub mod status {
    /// The request succeeded.
    pub const OK: u8 = 0;
    /// The request failed: a bad chain, a sector out of range, a host I/O error.
    pub const IOERR: u8 = 1;
    /// The device does not support the request type.
    pub const UNSUPP: u8 = 2;
}

const SECTOR: u64 = abi::device::SECTOR_SIZE;
