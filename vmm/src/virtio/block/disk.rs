//! A block device plugged into the VM: the [`Disk`] the vCPU loop serves at
//! a notify exit, on the vCPU thread, until its queue is empty.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError};

use vmm_sys_util::eventfd::EventFd;

use super::{BlockDevice, Counters};
use crate::memory::GuestMem;
use crate::stats::DiskStats;

/// A block device plugged into the VM: its registers and queue (for the
/// vCPU loop) and the irqfd its completions may raise.
pub struct Disk {
    /// The disk's name (`fs`, `swap`), as reports give it.
    pub name: String,
    /// Guest-physical base of its register window.
    pub mmio_base: u64,
    /// The GSI its irqfd raises.
    pub irq: u32,
    /// The device (registers, queue, backend).
    pub device: Mutex<BlockDevice>,
    /// The irqfd.
    irq_fd: EventFd,
    counters: Arc<Counters>,
}

impl Disk {
    /// Plugs `device` in at `mmio_base`; `irq` is the eventfd registered as
    /// the irqfd of GSI `gsi`.
    pub fn new(name: &str, mmio_base: u64, gsi: u32, device: BlockDevice, irq: EventFd) -> Disk {
        Disk {
            name: name.to_string(),
            mmio_base,
            irq: gsi,
            counters: device.counters.clone(),
            device: Mutex::new(device),
            irq_fd: irq,
        }
    }

    /// Serves the queue on the calling thread (the vCPU thread, at a notify
    /// exit or when the driver activates the device): completes every
    /// available request, a queue's worth per drain, and raises the
    /// interrupt if one is due. `notify`: counted as a queue notification.
    pub fn serve_now(&self, mem: &GuestMem, notify: bool) {
        if notify {
            self.counters.notifies.fetch_add(1, Ordering::Relaxed);
        }
        let mut device = self.device.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            let drain = device.drain(mem);
            if drain.notify {
                self.counters.interrupts.fetch_add(1, Ordering::Relaxed);
                let _ = self.irq_fd.write(1);
            }
            if !drain.more {
                return;
            }
        }
    }

    /// The device's counters.
    pub fn stats(&self) -> DiskStats {
        DiskStats {
            name: self.name.clone(),
            notifies: self.counters.notifies.load(Ordering::Relaxed),
            requests: self.counters.requests.load(Ordering::Relaxed),
            errors: self.counters.errors.load(Ordering::Relaxed),
            interrupts: self.counters.interrupts.load(Ordering::Relaxed),
        }
    }
}
