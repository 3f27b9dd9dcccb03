//! The virtio block device: request parsing and validation, execution against a
//! [`Backend`], queue draining, and serving a queue notification.
//!
//! The VMM serves a disk's requests at the notifying MMIO exit, on the vCPU
//! thread ([`Disk::serve_now`]): the backends are host memory or files in the
//! host's page cache, so a request is a copy of a few microseconds, far less
//! than waking another thread for it (measured on a PVM host: the swap-heavy
//! guest tests ran with 10 to 25% less CPU time inline than through an
//! ioeventfd and a device thread). A device thread still takes what one
//! drain leaves (more chains than a queue holds). The driver polls the used
//! ring and sets `VRING_AVAIL_F_NO_INTERRUPT`, which the device honours: an
//! irqfd write per request cost more than the request itself.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use anyhow::{Context, Result};
use virtio_queue::desc::split::Descriptor;
use virtio_queue::{QueueOwnedT, QueueT};
use vm_memory::{Bytes, GuestMemoryBackend};
use vmm_sys_util::eventfd::EventFd;

use super::backend::Backend;
use super::mmio::{INT_VRING, MmioTransport};
use crate::memory::GuestMem;
use crate::stats::DiskStats;

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

/// How a request ended: the status to write (if the chain has a writable status
/// byte) and the number of bytes the device wrote into the chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Completion {
    /// The [`status`] byte to write, `None` when the chain has no place for it.
    pub status: Option<u8>,
    /// Bytes the device wrote into the chain (the used ring's length).
    pub used_len: u32,
}

/// A request that passed validation.
#[derive(Clone, Debug)]
enum Request {
    In { sector: u64, data: Vec<Descriptor> },
    Out { sector: u64, data: Vec<Descriptor> },
    GetId { data: Vec<Descriptor> },
}

/// Checks a chain and turns it into a request; `Err` carries the status to report.
fn parse(mem: &GuestMem, descs: &[Descriptor], capacity: u64) -> Result<Request, u8> {
    let (head, rest) = descs.split_first().ok_or(status::IOERR)?;
    let data = rest.get(..rest.len().saturating_sub(1)).unwrap_or(&[]);
    if head.is_write_only() || head.len() < HEADER_LEN {
        return Err(status::IOERR);
    }
    let mut header = [0u8; HEADER_LEN as usize];
    mem.read_slice(&mut header, head.addr())
        .map_err(|_| status::IOERR)?;
    let kind = u32::from_le_bytes(header[0..4].try_into().unwrap_or_default());
    let sector = u64::from_le_bytes(header[8..16].try_into().unwrap_or_default());

    let device_writes = match kind {
        req::IN | req::GET_ID => true,
        req::OUT => false,
        _ => return Err(status::UNSUPP),
    };
    let mut total: u64 = 0;
    for d in data {
        if d.is_write_only() != device_writes || !mem.check_range(d.addr(), d.len() as usize) {
            return Err(status::IOERR);
        }
        if kind != req::GET_ID && u64::from(d.len()) % SECTOR != 0 {
            return Err(status::IOERR);
        }
        total += u64::from(d.len());
    }
    let data = data.to_vec();
    match kind {
        req::GET_ID => Ok(Request::GetId { data }),
        _ => {
            let end = sector
                .checked_mul(SECTOR)
                .and_then(|start| start.checked_add(total))
                .ok_or(status::IOERR)?;
            if end > capacity {
                return Err(status::IOERR);
            }
            Ok(if kind == req::IN {
                Request::In { sector, data }
            } else {
                Request::Out { sector, data }
            })
        }
    }
}

/// Executes a valid request; returns the status and the data bytes written to
/// the guest.
fn execute(
    mem: &GuestMem,
    request: &Request,
    backend: &mut dyn Backend,
    id: &[u8; ID_LEN],
) -> (u8, u32) {
    let mut buf = Vec::new();
    match request {
        Request::In { sector, data } => {
            let mut offset = sector * SECTOR;
            let mut written = 0u32;
            for d in data {
                buf.resize(d.len() as usize, 0);
                if backend.read_at(offset, &mut buf).is_err()
                    || mem.write_slice(&buf, d.addr()).is_err()
                {
                    return (status::IOERR, written);
                }
                offset += u64::from(d.len());
                written += d.len();
            }
            (status::OK, written)
        }
        Request::Out { sector, data } => {
            let mut offset = sector * SECTOR;
            for d in data {
                buf.resize(d.len() as usize, 0);
                if mem.read_slice(&mut buf, d.addr()).is_err()
                    || backend.write_at(offset, &buf).is_err()
                {
                    return (status::IOERR, 0);
                }
                offset += u64::from(d.len());
            }
            (status::OK, 0)
        }
        Request::GetId { data } => {
            let mut src: &[u8] = id;
            let mut written = 0u32;
            for d in data {
                let n = src.len().min(d.len() as usize);
                if mem.write_slice(&src[..n], d.addr()).is_err() {
                    return (status::IOERR, written);
                }
                src = &src[n..];
                written += n as u32;
            }
            (status::OK, written)
        }
    }
}

/// Serves one descriptor chain: header, data descriptors, status byte.
pub fn handle_chain(
    mem: &GuestMem,
    descs: &[Descriptor],
    backend: &mut dyn Backend,
    id: &[u8; ID_LEN],
) -> Completion {
    // The status byte is the first byte of the last descriptor, which must be
    // device-writable and not the header.
    let status_addr = match descs.split_last() {
        Some((last, rest))
            if !rest.is_empty()
                && last.is_write_only()
                && last.len() >= 1
                && mem.check_range(last.addr(), 1) =>
        {
            last.addr()
        }
        _ => {
            return Completion {
                status: None,
                used_len: 0,
            };
        }
    };
    let (code, written) = match parse(mem, descs, backend.capacity()) {
        Ok(request) => execute(mem, &request, backend, id),
        Err(code) => (code, 0),
    };
    if mem.write_obj(code, status_addr).is_err() {
        return Completion {
            status: None,
            used_len: written,
        };
    }
    Completion {
        status: Some(code),
        used_len: written + 1,
    }
}

/// Counters shared between the device thread and the stats report.
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
    /// The per-drain cap was hit and chains may remain.
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::virtio::backend::MemBackend;
    use virtio_queue::desc::RawDescriptor;
    use virtio_queue::mock::MockSplitQueue;
    use vm_memory::GuestAddress;

    /// VRING_DESC_F_NEXT and VRING_DESC_F_WRITE.
    const NEXT: u16 = 1;
    const W: u16 = 2;
    const HDR: u64 = 0x10_0000;
    const DATA: u64 = 0x20_0000;
    const STATUS: u64 = 0x30_0000;

    fn mem() -> GuestMem {
        crate::memory::create(16 << 20).unwrap()
    }

    fn desc(addr: u64, len: u32, flags: u16) -> RawDescriptor {
        RawDescriptor::from(Descriptor::new(addr, len, flags, 0))
    }

    fn header(mem: &GuestMem, kind: u32, sector: u64) {
        let mut h = [0u8; 16];
        h[0..4].copy_from_slice(&kind.to_le_bytes());
        h[8..16].copy_from_slice(&sector.to_le_bytes());
        mem.write_slice(&h, GuestAddress(HDR)).unwrap();
    }

    /// Builds `descs` as a chain in a mock queue and serves it.
    fn serve_chain(
        mem: &GuestMem,
        backend: &mut dyn Backend,
        descs: &[RawDescriptor],
    ) -> Completion {
        mem.write_obj(0xffu8, GuestAddress(STATUS)).unwrap();
        let q = MockSplitQueue::new(mem, 16);
        let chain = q.build_desc_chain(descs).unwrap();
        let descs: Vec<Descriptor> = chain.collect();
        handle_chain(mem, &descs, backend, b"faultline-test\0\0\0\0\0\0")
    }

    fn status_byte(mem: &GuestMem) -> u8 {
        mem.read_obj(GuestAddress(STATUS)).unwrap()
    }

    fn disk() -> MemBackend {
        let mut b = MemBackend::new(64 * 512).unwrap();
        let pattern: Vec<u8> = (0..64 * 512).map(|i| (i / 512) as u8).collect();
        b.write_at(0, &pattern).unwrap();
        b
    }

    #[test]
    fn read_request() {
        let mem = mem();
        let mut b = disk();
        header(&mem, req::IN, 3);
        let c = serve_chain(
            &mem,
            &mut b,
            &[desc(HDR, 16, 0), desc(DATA, 1024, W), desc(STATUS, 1, W)],
        );
        assert_eq!(
            c,
            Completion {
                status: Some(status::OK),
                used_len: 1025
            }
        );
        assert_eq!(status_byte(&mem), status::OK);
        let mut got = [0u8; 1024];
        mem.read_slice(&mut got, GuestAddress(DATA)).unwrap();
        assert!(got[..512].iter().all(|&x| x == 3));
        assert!(got[512..].iter().all(|&x| x == 4));
    }

    #[test]
    fn write_request_with_several_data_descriptors() {
        let mem = mem();
        let mut b = disk();
        mem.write_slice(&[0xaa; 512], GuestAddress(DATA)).unwrap();
        mem.write_slice(&[0xbb; 512], GuestAddress(DATA + 0x1000))
            .unwrap();
        header(&mem, req::OUT, 62);
        let c = serve_chain(
            &mem,
            &mut b,
            &[
                desc(HDR, 16, 0),
                desc(DATA, 512, 0),
                desc(DATA + 0x1000, 512, 0),
                desc(STATUS, 1, W),
            ],
        );
        assert_eq!(
            c,
            Completion {
                status: Some(status::OK),
                used_len: 1
            }
        );
        let mut got = [0u8; 1024];
        b.read_at(62 * 512, &mut got).unwrap();
        assert!(got[..512].iter().all(|&x| x == 0xaa));
        assert!(got[512..].iter().all(|&x| x == 0xbb));
    }

    #[test]
    fn get_id() {
        let mem = mem();
        let mut b = disk();
        header(&mem, req::GET_ID, 0);
        let c = serve_chain(
            &mem,
            &mut b,
            &[desc(HDR, 16, 0), desc(DATA, 20, W), desc(STATUS, 1, W)],
        );
        assert_eq!(
            c,
            Completion {
                status: Some(status::OK),
                used_len: 21
            }
        );
        let mut got = [0u8; 14];
        mem.read_slice(&mut got, GuestAddress(DATA)).unwrap();
        assert_eq!(&got, b"faultline-test");
    }

    #[test]
    fn malformed_requests_get_an_error_status() {
        let mem = mem();
        let mut b = disk();
        let before = {
            let mut v = vec![0u8; 64 * 512];
            b.read_at(0, &mut v).unwrap();
            v
        };
        let cases: Vec<(&str, u32, u64, Vec<RawDescriptor>, u8)> = vec![
            (
                "beyond capacity",
                req::IN,
                63,
                vec![desc(HDR, 16, 0), desc(DATA, 1024, W), desc(STATUS, 1, W)],
                status::IOERR,
            ),
            (
                "sector overflow",
                req::IN,
                u64::MAX / 256,
                vec![desc(HDR, 16, 0), desc(DATA, 512, W), desc(STATUS, 1, W)],
                status::IOERR,
            ),
            (
                "not a sector multiple",
                req::IN,
                0,
                vec![desc(HDR, 16, 0), desc(DATA, 100, W), desc(STATUS, 1, W)],
                status::IOERR,
            ),
            (
                "read into a read-only buffer",
                req::IN,
                0,
                vec![desc(HDR, 16, 0), desc(DATA, 512, 0), desc(STATUS, 1, W)],
                status::IOERR,
            ),
            (
                "write from a write-only buffer",
                req::OUT,
                0,
                vec![desc(HDR, 16, 0), desc(DATA, 512, W), desc(STATUS, 1, W)],
                status::IOERR,
            ),
            (
                "short header",
                req::IN,
                0,
                vec![desc(HDR, 8, 0), desc(DATA, 512, W), desc(STATUS, 1, W)],
                status::IOERR,
            ),
            (
                "writable header",
                req::IN,
                0,
                vec![desc(HDR, 16, W), desc(DATA, 512, W), desc(STATUS, 1, W)],
                status::IOERR,
            ),
            (
                "data outside RAM",
                req::OUT,
                0,
                vec![desc(HDR, 16, 0), desc(16 << 20, 512, 0), desc(STATUS, 1, W)],
                status::IOERR,
            ),
            (
                "data straddling the end of RAM",
                req::IN,
                0,
                vec![
                    desc(HDR, 16, 0),
                    desc((16 << 20) - 512, 1024, W),
                    desc(STATUS, 1, W),
                ],
                status::IOERR,
            ),
            (
                "header outside RAM",
                req::IN,
                0,
                vec![
                    desc(0xffff_ffff_ffff_fff0, 16, 0),
                    desc(DATA, 512, W),
                    desc(STATUS, 1, W),
                ],
                status::IOERR,
            ),
            (
                "unknown type",
                4,
                0,
                vec![desc(HDR, 16, 0), desc(STATUS, 1, W)],
                status::UNSUPP,
            ),
        ];
        for (what, kind, sector, descs, want) in cases {
            header(&mem, kind, sector);
            let c = serve_chain(&mem, &mut b, &descs);
            assert_eq!(c.status, Some(want), "{what}");
            assert_eq!(status_byte(&mem), want, "{what}");
            assert_eq!(c.used_len, 1, "{what}");
        }
        let mut after = vec![0u8; 64 * 512];
        b.read_at(0, &mut after).unwrap();
        assert_eq!(before, after, "a rejected request changed the disk");
    }

    #[test]
    fn chains_without_a_writable_status_are_dropped() {
        let mem = mem();
        let mut b = disk();
        header(&mem, req::IN, 0);
        let c = serve_chain(
            &mem,
            &mut b,
            &[desc(HDR, 16, 0), desc(DATA, 512, W), desc(STATUS, 1, 0)],
        );
        assert_eq!(
            c,
            Completion {
                status: None,
                used_len: 0
            }
        );
        let c = serve_chain(&mem, &mut b, &[desc(STATUS, 1, W)]);
        assert_eq!(
            c,
            Completion {
                status: None,
                used_len: 0
            }
        );
        let c = serve_chain(&mem, &mut b, &[desc(HDR, 16, 0), desc(16 << 20, 1, W)]);
        assert_eq!(
            c,
            Completion {
                status: None,
                used_len: 0
            }
        );
        assert_eq!(status_byte(&mem), 0xff);
    }

    #[test]
    fn empty_read_is_ok() {
        let mem = mem();
        let mut b = disk();
        header(&mem, req::IN, 64);
        let c = serve_chain(&mem, &mut b, &[desc(HDR, 16, 0), desc(STATUS, 1, W)]);
        assert_eq!(
            c,
            Completion {
                status: Some(status::OK),
                used_len: 1
            }
        );
    }

    /// A device whose transport points at the mock queue, as a driver would set it up.
    fn device_on(q: &MockSplitQueue<GuestMem>) -> BlockDevice {
        let mut dev = BlockDevice::new(Box::new(disk()), "t");
        dev.transport.queue = q.create_queue().unwrap();
        use super::super::mmio::{reg, status as st};
        for (off, v) in [
            (reg::STATUS, st::ACKNOWLEDGE | st::DRIVER),
            (reg::DRIVER_FEATURES_SEL, 1),
            (reg::DRIVER_FEATURES, 1),
            (reg::STATUS, 0xb),
            (reg::STATUS, 0xf),
        ] {
            dev.transport.write(off, &v.to_le_bytes());
        }
        assert!(dev.transport.is_active());
        dev
    }

    #[test]
    fn drain_completes_chains_and_raises_the_interrupt() {
        let mem = mem();
        let q = MockSplitQueue::new(&mem, 16);
        header(&mem, req::IN, 1);
        let descs = [
            desc(HDR, 16, 0),
            desc(DATA, 512, W),
            desc(STATUS, 1, W),
            desc(HDR, 16, 0),
            desc(DATA + 512, 512, W),
            desc(STATUS + 1, 1, W),
        ];
        let mut raw = Vec::new();
        for (i, d) in descs.iter().enumerate() {
            let d = Descriptor::from(*d);
            let next = i % 3 != 2;
            let flags = d.flags() | if next { NEXT } else { 0 };
            raw.push(RawDescriptor::from(Descriptor::new(
                d.addr().0,
                d.len(),
                flags,
                i as u16 + 1,
            )));
        }
        q.add_desc_chains(&raw, 0).unwrap();
        let mut dev = device_on(&q);
        let d = dev.drain(&mem);
        assert_eq!(
            d,
            Drain {
                completed: 2,
                notify: true,
                more: false
            }
        );
        assert_eq!(q.used().idx().load(), 2);
        assert_eq!(
            dev.transport.interrupt_status.load(Ordering::SeqCst),
            INT_VRING
        );
        let e0 = q.used().ring().ref_at(0).unwrap().load();
        assert_eq!((e0.id(), e0.len()), (0, 513));
        let mut got = [0u8; 1024];
        mem.read_slice(&mut got, GuestAddress(DATA)).unwrap();
        assert!(got.iter().all(|&x| x == 1));
        // Nothing more to do.
        assert_eq!(dev.drain(&mem).completed, 0);
    }

    #[test]
    fn a_driver_that_polls_gets_no_interrupt() {
        let mem = mem();
        let q = MockSplitQueue::new(&mem, 16);
        header(&mem, req::IN, 1);
        q.build_desc_chain(&[desc(HDR, 16, 0), desc(DATA, 512, W), desc(STATUS, 1, W)])
            .unwrap();
        // VRING_AVAIL_F_NO_INTERRUPT in the available ring's flags.
        mem.write_obj(1u16, q.avail_addr()).unwrap();
        let mut dev = device_on(&q);
        let d = dev.drain(&mem);
        assert_eq!((d.completed, d.notify), (1, false));
        assert_eq!(status_byte(&mem), status::OK);
        assert_eq!(dev.transport.interrupt_status.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn inactive_device_does_nothing() {
        let mem = mem();
        let q = MockSplitQueue::new(&mem, 16);
        header(&mem, req::IN, 1);
        q.build_desc_chain(&[desc(HDR, 16, 0), desc(DATA, 512, W), desc(STATUS, 1, W)])
            .unwrap();
        let mut dev = BlockDevice::new(Box::new(disk()), "t");
        dev.transport.queue = q.create_queue().unwrap();
        assert_eq!(dev.drain(&mem).completed, 0);
    }

    #[test]
    fn device_thread_serves_notifies_and_interrupts() {
        let mem = mem();
        let q = MockSplitQueue::new(&mem, 16);
        header(&mem, req::IN, 2);
        q.build_desc_chain(&[desc(HDR, 16, 0), desc(DATA, 512, W), desc(STATUS, 1, W)])
            .unwrap();
        let dev = device_on(&q);
        let notify = EventFd::new(0).unwrap();
        let irq = EventFd::new(0).unwrap();
        let irq_seen = irq.try_clone().unwrap();
        let mut disk = Disk::start(
            "t",
            0,
            5,
            dev,
            mem.clone(),
            notify.try_clone().unwrap(),
            irq,
        )
        .unwrap();
        notify.write(1).unwrap();
        assert_eq!(irq_seen.read().unwrap(), 1); // blocks until the interrupt
        assert_eq!(status_byte(&mem), status::OK);
        disk.stop();
        let s = disk.stats();
        assert_eq!(
            (s.notifies, s.requests, s.errors, s.interrupts),
            (1, 1, 0, 1)
        );
    }
}
