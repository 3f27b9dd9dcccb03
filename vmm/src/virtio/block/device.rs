//! The block device: its transport registers, storage and id, and the
//! draining of its queue (up to one queue's worth of chains at a time).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use virtio_queue::desc::split::Descriptor;
use virtio_queue::{QueueOwnedT, QueueT};
use vm_memory::Bytes;

use super::{ID_LEN, SECTOR, VIRTIO_ID_BLOCK, handle_chain, status};
use crate::memory::GuestMem;
use crate::virtio::backend::Backend;
use crate::virtio::mmio::{INT_VRING, MmioTransport};

/// Counters the disk keeps and the stats report reads.
#[derive(Debug, Default)]
pub struct Counters {
    /// Queue notifications received.
    pub notifies: AtomicU64,
    /// Requests completed (any status).
    pub requests: AtomicU64,
    /// Requests completed with an error status.
    pub errors: AtomicU64,
    /// Interrupts raised.
    pub interrupts: AtomicU64,
}

/// Result of draining the queue once.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Drain {
    /// Chains completed.
    pub completed: u32,
    /// The driver wants an interrupt.
    pub notify: bool,
    /// The per-drain cap (a queue's worth) was hit and chains may remain.
    pub more: bool,
}

/// A virtio block device: transport registers, storage and id.
pub struct BlockDevice {
    /// The virtio-mmio registers the driver programs.
    pub transport: MmioTransport,
    backend: Box<dyn Backend>,
    id: [u8; ID_LEN],
    /// Counters the stats report reads.
    pub counters: Arc<Counters>,
}

impl BlockDevice {
    /// A device serving `backend`, reporting `id` (truncated to 20 bytes) to GET_ID.
    pub fn new(backend: Box<dyn Backend>, id: &str) -> BlockDevice {
        let capacity_sectors = backend.capacity() / SECTOR;
        let mut id_bytes = [0u8; ID_LEN];
        let n = id.len().min(ID_LEN);
        id_bytes[..n].copy_from_slice(&id.as_bytes()[..n]);
        BlockDevice {
            transport: MmioTransport::new(
                VIRTIO_ID_BLOCK,
                0,
                capacity_sectors.to_le_bytes().to_vec(),
            ),
            backend,
            id: id_bytes,
            counters: Arc::new(Counters::default()),
        }
    }

    /// Completes up to one queue's worth of available chains.
    pub fn drain(&mut self, mem: &GuestMem) -> Drain {
        let mut out = Drain::default();
        if !self.transport.is_active() {
            return out;
        }
        match self.drain_inner(mem, &mut out) {
            Ok(()) => {}
            Err(_) => self.transport.set_needs_reset(),
        }
        if out.notify {
            self.transport
                .interrupt_status
                .fetch_or(INT_VRING, Ordering::SeqCst);
            self.transport.publish();
        }
        out
    }

    fn drain_inner(&mut self, mem: &GuestMem, out: &mut Drain) -> Result<(), virtio_queue::Error> {
        let queue = &mut self.transport.queue;
        let mut budget = queue.size();
        loop {
            queue.disable_notification(mem)?;
            while budget > 0 {
                let Some(chain) = queue.iter(mem)?.next() else {
                    break;
                };
                budget -= 1;
                let head = chain.head_index();
                let descs: Vec<Descriptor> = chain.collect();
                let c = handle_chain(mem, &descs, self.backend.as_mut(), &self.id);
                self.counters.requests.fetch_add(1, Ordering::Relaxed);
                if c.status != Some(status::OK) {
                    self.counters.errors.fetch_add(1, Ordering::Relaxed);
                }
                queue.add_used(mem, head, c.used_len)?;
                out.completed += 1;
                // `needs_notification` (virtio-queue) ignores the driver's
                // VRING_AVAIL_F_NO_INTERRUPT; a polling driver sets it.
                if queue.needs_notification(mem)? && !interrupts_off(mem, queue.avail_ring()) {
                    out.notify = true;
                }
            }
            if budget == 0 {
                out.more = true;
                // Leave notifications enabled so the driver keeps kicking.
                queue.enable_notification(mem)?;
                return Ok(());
            }
            if !queue.enable_notification(mem)? {
                return Ok(());
            }
        }
    }
}

/// Whether the driver asks for no interrupts (`VRING_AVAIL_F_NO_INTERRUPT`
/// in the flags of the available ring at `avail_ring`; virtio 1.x §2.7.7:
/// the device should then not send one). A flags word that cannot be read
/// counts as asking for them.
fn interrupts_off(mem: &GuestMem, avail_ring: u64) -> bool {
    const AVAIL_F_NO_INTERRUPT: u16 = 1;
    mem.load::<u16>(vm_memory::GuestAddress(avail_ring), Ordering::Acquire)
        .is_ok_and(|flags| flags & AVAIL_F_NO_INTERRUPT != 0)
}
