//! virtio over MMIO: the transport registers, the block device and its storage.

pub mod backend;
pub mod block;
pub mod mmio;
