//! A block device plugged into the VM: the [`Disk`] the vCPU loop serves at
//! a notify exit, and the device thread that takes what one drain leaves.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use anyhow::{Context, Result};
use vmm_sys_util::eventfd::EventFd;

use super::{BlockDevice, Counters};
use crate::memory::GuestMem;
use crate::stats::DiskStats;

/// A block device plugged into the VM: its registers (for the vCPU loop), and
/// the thread that serves its queue.
pub struct Disk {
    /// The disk's name (`fs`, `swap`), as reports give it.
    pub name: String,
    /// Guest-physical base of its register window.
    pub mmio_base: u64,
    /// The GSI its irqfd raises.
    pub irq: u32,
    /// The device, shared by the vCPU (registers) and the queue thread.
    pub device: Arc<Mutex<BlockDevice>>,
    notify: EventFd,
    /// The irqfd, for requests served on the vCPU thread.
    irq_fd: EventFd,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    counters: Arc<Counters>,
}

impl Disk {
    /// Starts the device thread. `notify` is the eventfd it waits on (kicked
    /// by the VMM), `irq` the eventfd registered as the irqfd.
    pub fn start(
        name: &str,
        mmio_base: u64,
        gsi: u32,
        device: BlockDevice,
        mem: GuestMem,
        notify: EventFd,
        irq: EventFd,
    ) -> Result<Disk> {
        let counters = device.counters.clone();
        let device = Arc::new(Mutex::new(device));
        let stop = Arc::new(AtomicBool::new(false));
        let irq_fd = irq.try_clone().context("cloning the irq eventfd")?;
        let thread = {
            let device = device.clone();
            let stop = stop.clone();
            let notify = notify.try_clone().context("cloning the notify eventfd")?;
            let counters = counters.clone();
            std::thread::Builder::new()
                .name(format!("virtio-blk-{name}"))
                .spawn(move || serve(&device, &mem, &notify, &irq, &stop, &counters))
                .context("starting a block device thread")?
        };
        Ok(Disk {
            name: name.to_string(),
            mmio_base,
            irq: gsi,
            device,
            notify,
            irq_fd,
            stop,
            thread: Some(thread),
            counters,
        })
    }

    /// Wakes the device thread to drain the queue.
    pub fn kick(&self) {
        let _ = self.notify.write(1);
    }

    /// Serves the queue on the calling thread (the vCPU thread, at a notify
    /// exit) as the device thread would: completes the available requests,
    /// raises the interrupt if due, and leaves what a queue's worth did not
    /// cover to the thread.
    pub fn serve_now(&self, mem: &GuestMem) {
        self.counters.notifies.fetch_add(1, Ordering::Relaxed);
        let drain = self
            .device
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .drain(mem);
        if drain.notify {
            self.counters.interrupts.fetch_add(1, Ordering::Relaxed);
            let _ = self.irq_fd.write(1);
        }
        if drain.more {
            self.kick();
        }
    }

    /// Stops the device thread and waits for it (so every write has reached the backend).
    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = self.notify.write(1);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
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

impl Drop for Disk {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The device thread: wait for a notify, drain, interrupt.
fn serve(
    device: &Mutex<BlockDevice>,
    mem: &GuestMem,
    notify: &EventFd,
    irq: &EventFd,
    stop: &AtomicBool,
    counters: &Counters,
) {
    loop {
        if notify.read().is_err() {
            return;
        }
        if stop.load(Ordering::SeqCst) {
            return;
        }
        counters.notifies.fetch_add(1, Ordering::Relaxed);
        let drain = device
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .drain(mem);
        if drain.notify {
            counters.interrupts.fetch_add(1, Ordering::Relaxed);
            let _ = irq.write(1);
        }
        if drain.more {
            let _ = notify.write(1);
        }
    }
}
