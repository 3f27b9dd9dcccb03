//! virtio block device driver: one request queue, polled for completion.
//!
//! A request is a descriptor chain: a 16-byte header the device reads (type,
//! sector), the data buffers (device-written for reads), and a 1-byte status
//! the device writes. Data buffers are described page by page through
//! [`crate::mm::virt_to_phys`] (physically adjacent pages merge into one
//! descriptor), so one request can carry several separate buffers; transfers
//! too large for one chain are split into several requests.
//!
//! Several requests may go with one notification (the swap disk's scattered
//! runs of slots, a cache block's dirty runs: [`groups`]): each exit to the
//! VMM costs far more than the copy it asks for. The VMM normally serves
//! them at the notify exit, but completion is not promised then: the driver
//! polls the used ring, yielding the CPU between polls, and asks for no
//! interrupts. Groups of requests are serialized by a sleeping [`Mutex`]
//! around the queue.
//!
//! A request never allocates: its header and status live in a record of
//! the queue page's spare bytes (one group runs at a time) and the chain is
//! built in a fixed array on the stack, so paging I/O works when kernel
//! memory is gone.

mod groups;

use super::BlockError;
use super::blk_segments::data_segments;
use super::virtio_mmio::{DEVICE_ID_BLOCK, F_VERSION_1, Transport};
use super::virtqueue::{MAX_SIZE, SCRATCH_SIZE, Segment, Virtqueue};
use crate::sync::Mutex;

/// Sector size in bytes.
pub const SECTOR_SIZE: usize = abi::device::SECTOR_SIZE as usize;

/// Request types (virtio 1.x §5.2.6).
const T_IN: u32 = 0;
const T_OUT: u32 = 1;
/// Request status values.
const S_OK: u8 = 0;
const S_UNSUPP: u8 = 2;
/// Status value before the device writes it.
const S_PENDING: u8 = 0xff;

/// The header every request starts with.
#[repr(C)]
struct RequestHeader {
    kind: u32,
    reserved: u32,
    sector: u64,
}

/// Size of the header on the wire.
const HEADER_LEN: u32 = core::mem::size_of::<RequestHeader>() as u32;
/// Offset of the status byte in a request's scratch record (after the header).
const STATUS_OFFSET: usize = 16;
/// Bytes of the queue page's spare area per request of a group: its header
/// and its status byte.
const RECORD_LEN: usize = 32;
/// Most requests sent with one notification (the spare area's records).
const MAX_BATCH: usize = SCRATCH_SIZE / RECORD_LEN;

/// An empty segment, to fill fixed arrays with.
const NO_SEGMENT: Segment = Segment {
    addr: 0,
    len: 0,
    device_writes: false,
};

/// A probed and running virtio block device.
pub struct BlockDevice {
    transport: Transport,
    /// Size in 512-byte sectors.
    capacity: u64,
    queue: Mutex<Virtqueue>,
}

impl BlockDevice {
    /// Brings up the virtio-mmio block device whose register window is at
    /// guest-physical `mmio_base`.
    pub fn probe(mmio_base: u64) -> Result<BlockDevice, BlockError> {
        let transport = Transport::probe(mmio_base, DEVICE_ID_BLOCK)?;
        transport.negotiate(F_VERSION_1)?;
        let queue = transport.setup_queue(0).inspect_err(|_| transport.fail())?;
        transport.driver_ok();
        let capacity = transport.config_read64(0);
        Ok(BlockDevice {
            transport,
            capacity,
            queue: Mutex::new(queue),
        })
    }

    /// Size in 512-byte sectors.
    pub fn capacity(&self) -> u64 {
        self.capacity
    }

    /// Reads `buf.len()` bytes (a multiple of 512) starting at `sector`.
    /// `buf` must be kernel memory that [`crate::mm::virt_to_phys`] translates
    /// (heap, direct map or kernel image).
    pub fn read(&self, sector: u64, buf: &mut [u8]) -> Result<(), BlockError> {
        self.transfer(T_IN, sector, buf.as_mut_ptr() as u64, buf.len())
    }

    /// Writes `buf` (a multiple of 512 bytes) starting at `sector`. Same rules
    /// for `buf` as [`BlockDevice::read`].
    pub fn write(&self, sector: u64, buf: &[u8]) -> Result<(), BlockError> {
        self.transfer(T_OUT, sector, buf.as_ptr() as u64, buf.len())
    }

    /// Checks that `len` bytes from `sector` are whole sectors on the disk:
    /// `Unaligned` if not whole sectors, `OutOfRange` if past the end.
    fn check_range(&self, sector: u64, len: usize) -> Result<(), BlockError> {
        if !len.is_multiple_of(SECTOR_SIZE) {
            return Err(BlockError::Unaligned);
        }
        let sectors = (len / SECTOR_SIZE) as u64;
        match sector.checked_add(sectors) {
            Some(end) if end <= self.capacity => Ok(()),
            _ => Err(BlockError::OutOfRange),
        }
    }

    /// Moves `len` bytes at kernel address `va` to or from the disk at `sector`,
    /// in as few requests as the queue allows.
    fn transfer(&self, kind: u32, sector: u64, va: u64, len: usize) -> Result<(), BlockError> {
        self.check_range(sector, len)?;
        let device_writes = kind == T_IN;
        let mut done = 0usize;
        while done < len {
            let mut queue = self.queue.lock();
            // Header and status take two descriptors; the rest carry data.
            let max_data = queue.size() as usize - 2;
            let mut segs = [NO_SEGMENT; MAX_SIZE as usize];
            let (n, bytes) = data_segments(
                va + done as u64,
                len - done,
                &mut segs[..max_data],
                device_writes,
            );
            if bytes == 0 {
                return Err(BlockError::Io);
            }
            let at = sector + (done / SECTOR_SIZE) as u64;
            let head = self.push(&mut queue, 0, kind, at, n, |j| segs[j])?;
            self.complete(&mut queue, &[head])?;
            drop(queue);
            done += bytes;
        }
        Ok(())
    }

    /// Notifies the device of the requests just published (heads `heads`,
    /// records `0..heads.len()` of the scratch area) and waits for them all;
    /// the first failure among them. `OutOfRange` for an empty group.
    fn complete(&self, queue: &mut Virtqueue, heads: &[u16]) -> Result<(), BlockError> {
        if heads.is_empty() {
            // Not even one request fitted: a chain too long for the queue.
            return Err(BlockError::OutOfRange);
        }
        if queue.needs_notify() {
            self.transport.notify(0);
        }
        // The device may already be done when the notify returns; otherwise
        // its thread finishes later.
        let mut left = heads.len();
        while left > 0 {
            match queue.pop_used() {
                Some((done, _)) if heads.contains(&done) => left -= 1,
                Some(_) => continue,
                None => crate::sched::yield_now(),
            }
        }
        (0..heads.len())
            .map(|i| status(queue, i))
            .find(Result::is_err)
            .unwrap_or(Ok(()))
    }

    /// Publishes request number `i` of a group (its header and status in
    /// the `i`-th scratch record, `i` below [`MAX_BATCH`]) with the `len`
    /// data segments `seg(0..len)`; returns the chain's head. `OutOfRange`
    /// when the chain would not fit in the queue.
    fn push(
        &self,
        queue: &mut Virtqueue,
        i: usize,
        kind: u32,
        sector: u64,
        len: usize,
        seg: impl Fn(usize) -> Segment,
    ) -> Result<u16, BlockError> {
        if i >= MAX_BATCH || len + 2 > queue.num_free() as usize {
            return Err(BlockError::OutOfRange);
        }
        let (scratch, scratch_pa) = queue.scratch();
        let record = i * RECORD_LEN;
        let header = RequestHeader {
            kind,
            reserved: 0,
            sector,
        };
        // SAFETY: the spare area of the queue page belongs to the driver,
        // groups of requests are serialized by the queue lock and record `i`
        // (below MAX_BATCH) lies inside the area.
        unsafe {
            core::ptr::write_volatile(scratch.add(record) as *mut RequestHeader, header);
            core::ptr::write_volatile(scratch.add(record + STATUS_OFFSET), S_PENDING);
        }
        let record_pa = scratch_pa + record as u64;
        let chain = |j: usize| match j {
            0 => Segment {
                addr: record_pa,
                len: HEADER_LEN,
                device_writes: false,
            },
            j if j == len + 1 => Segment {
                addr: record_pa + STATUS_OFFSET as u64,
                len: 1,
                device_writes: true,
            },
            j => seg(j - 1),
        };
        queue.push_with(len + 2, chain).map_err(|_| BlockError::Io)
    }
}

/// The outcome of request number `i` of the group just completed.
fn status(queue: &Virtqueue, i: usize) -> Result<(), BlockError> {
    let (scratch, _) = queue.scratch();
    // SAFETY: the status byte is in the queue page's spare area; the device
    // wrote it before publishing the used entry `pop_used` read (with a
    // fence after).
    let status = unsafe { core::ptr::read_volatile(scratch.add(i * RECORD_LEN + STATUS_OFFSET)) };
    match status {
        S_OK => Ok(()),
        S_UNSUPP => Err(BlockError::Unsupported),
        _ => Err(BlockError::Io),
    }
}
