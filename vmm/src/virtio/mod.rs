//! virtio over MMIO: the transport registers, the block device and its
//! storage, and the register windows the guest reads without exits.

pub mod backend;
pub mod block;
pub mod mmio;
pub mod window;
