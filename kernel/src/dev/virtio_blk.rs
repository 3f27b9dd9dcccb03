//! virtio block device driver: one request queue, polled for completion.
//!
//! A request is a descriptor chain: a 16-byte header the device reads (type,
//! sector), the data buffers (device-written for reads), and a 1-byte status
//! the device writes. Data buffers are described page by page through
//! [`crate::mm::virt_to_phys`] (physically adjacent pages merge into one
//! descriptor), so one request can carry several separate buffers; transfers
//! too large for one chain are split into several requests.
//!
//! The VMM normally serves the request at the notify exit, but completion is
//! not promised then: the driver polls the used ring, yielding the CPU
//! between polls, and asks for no interrupts. Requests are serialized by a
//! sleeping [`Mutex`] around the queue.
//!
//! A request never allocates: the header and status live in the queue
//! page's spare bytes (one request runs at a time) and the chain is built in
//! a fixed array on the stack, so paging I/O works when kernel memory is gone.

use super::BlockError;
use super::virtio_mmio::{DEVICE_ID_BLOCK, F_VERSION_1, Transport};
use super::virtqueue::{MAX_SIZE, Segment, Virtqueue};
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

/// Most bytes moved by one request.
const MAX_REQUEST_BYTES: usize = 1 << 20;
const PAGE_SIZE: u64 = 4096;

/// The header every request starts with.
#[repr(C)]
struct RequestHeader {
    kind: u32,
    reserved: u32,
    sector: u64,
}

/// Size of the header on the wire.
const HEADER_LEN: u32 = core::mem::size_of::<RequestHeader>() as u32;
/// Offset of the status byte in the queue's spare area (after the header).
const STATUS_OFFSET: usize = 16;

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

    /// Writes the 4 KiB frames at guest-physical `frames` (anywhere in memory)
    /// to consecutive sectors from `sector`, in one request (swap-out batches).
    pub fn write_frames(&self, sector: u64, frames: &[u64]) -> Result<(), BlockError> {
        self.frames_request(T_OUT, sector, frames)
    }

    /// Reads consecutive sectors from `sector` into the 4 KiB frames at
    /// guest-physical `frames`, in one request (swap read-ahead).
    pub fn read_frames(&self, sector: u64, frames: &[u64]) -> Result<(), BlockError> {
        self.frames_request(T_IN, sector, frames)
    }

    fn frames_request(&self, kind: u32, sector: u64, frames: &[u64]) -> Result<(), BlockError> {
        const FRAME: u64 = 4096;
        let sectors = frames.len() as u64 * (FRAME / SECTOR_SIZE as u64);
        match sector.checked_add(sectors) {
            Some(end) if end <= self.capacity => {}
            _ => return Err(BlockError::OutOfRange),
        }
        let mut queue = self.queue.lock();
        if frames.is_empty() || frames.len() > queue.size() as usize - 2 {
            return Err(BlockError::OutOfRange);
        }
        let mut segs = [NO_SEGMENT; MAX_SIZE as usize];
        for (seg, &addr) in segs.iter_mut().zip(frames) {
            *seg = Segment {
                addr,
                len: FRAME as u32,
                device_writes: kind == T_IN,
            };
        }
        self.request(&mut queue, kind, sector, &segs[..frames.len()])
    }

    /// Moves `len` bytes at kernel address `va` to or from the disk at `sector`,
    /// in as few requests as the queue allows.
    fn transfer(&self, kind: u32, sector: u64, va: u64, len: usize) -> Result<(), BlockError> {
        if !len.is_multiple_of(SECTOR_SIZE) {
            return Err(BlockError::Unaligned);
        }
        let sectors = (len / SECTOR_SIZE) as u64;
        match sector.checked_add(sectors) {
            Some(end) if end <= self.capacity => {}
            _ => return Err(BlockError::OutOfRange),
        }
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
            self.request(
                &mut queue,
                kind,
                sector + (done / SECTOR_SIZE) as u64,
                &segs[..n],
            )?;
            drop(queue);
            done += bytes;
        }
        Ok(())
    }

    /// Runs one request with the given data segments (at most the queue's
    /// size less two) and waits for it.
    fn request(
        &self,
        queue: &mut Virtqueue,
        kind: u32,
        sector: u64,
        data: &[Segment],
    ) -> Result<(), BlockError> {
        let (scratch, scratch_pa) = queue.scratch();
        let header = RequestHeader {
            kind,
            reserved: 0,
            sector,
        };
        let status_ptr = scratch.wrapping_add(STATUS_OFFSET);
        // SAFETY: the spare area of the queue page belongs to the driver, and
        // requests are serialized by the queue lock, so no request in flight
        // uses it; the header fits before STATUS_OFFSET.
        unsafe {
            core::ptr::write_volatile(scratch as *mut RequestHeader, header);
            core::ptr::write_volatile(status_ptr, S_PENDING);
        }
        let mut chain = [NO_SEGMENT; MAX_SIZE as usize];
        if data.len() + 2 > chain.len() {
            return Err(BlockError::OutOfRange);
        }
        chain[0] = Segment {
            addr: scratch_pa,
            len: HEADER_LEN,
            device_writes: false,
        };
        chain[1..=data.len()].copy_from_slice(data);
        chain[data.len() + 1] = Segment {
            addr: scratch_pa + STATUS_OFFSET as u64,
            len: 1,
            device_writes: true,
        };

        let head = queue
            .push(&chain[..data.len() + 2])
            .map_err(|_| BlockError::Io)?;
        if queue.needs_notify() {
            self.transport.notify(0);
        }
        // The device may already be done when the notify returns; otherwise
        // its thread finishes later. Chains completed are freed as they come.
        loop {
            match queue.pop_used() {
                Some((done, _)) if done == head => break,
                Some(_) => continue,
                None => crate::sched::yield_now(),
            }
        }
        // SAFETY: the status byte is in the queue page; the device wrote it
        // before publishing the used entry that `pop_used` read (with a fence after).
        let status = unsafe { core::ptr::read_volatile(status_ptr) };
        match status {
            S_OK => Ok(()),
            S_UNSUPP => Err(BlockError::Unsupported),
            _ => Err(BlockError::Io),
        }
    }
}

/// Splits up to `len` bytes at kernel address `va` into at most
/// `segs.len()` guest-physical segments written to `segs` (page by page,
/// merging physically adjacent pages), stopping at [`MAX_REQUEST_BYTES`].
/// Returns how many segments it wrote and the bytes they cover, a multiple of
/// the sector size (at least one sector when `len` is a non-zero multiple of
/// it and `segs.len() >= 2`).
fn data_segments(va: u64, len: usize, segs: &mut [Segment], device_writes: bool) -> (usize, usize) {
    split_segments(va, len, segs, device_writes, crate::mm::virt_to_phys)
}

/// [`data_segments`] with the address translation as a parameter.
fn split_segments(
    va: u64,
    len: usize,
    segs: &mut [Segment],
    device_writes: bool,
    to_phys: impl Fn(u64) -> u64,
) -> (usize, usize) {
    let mut n = 0usize;
    let end = va + len as u64;
    let mut cur = va;
    let mut total = 0usize;
    while cur < end && total < MAX_REQUEST_BYTES {
        let page_end = (cur & !(PAGE_SIZE - 1)) + PAGE_SIZE;
        let step = page_end.min(end) - cur;
        let pa = to_phys(cur);
        let capacity = segs.len();
        match n.checked_sub(1).map(|i| &mut segs[i]) {
            Some(last) if last.addr + last.len as u64 == pa => last.len += step as u32,
            _ if n == capacity => break,
            _ => {
                segs[n] = Segment {
                    addr: pa,
                    len: step as u32,
                    device_writes,
                };
                n += 1;
            }
        }
        total += step as usize;
        cur += step;
    }
    // Whole sectors only: trim the tail back to a sector boundary.
    let mut excess = total % SECTOR_SIZE;
    total -= excess;
    while excess > 0 && n > 0 {
        let last = &mut segs[n - 1];
        let cut = excess.min(last.len as usize);
        last.len -= cut as u32;
        excess -= cut;
        if last.len == 0 {
            n -= 1;
        }
    }
    (n, total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(
        va: u64,
        len: usize,
        max: usize,
        device_writes: bool,
        to_phys: impl Fn(u64) -> u64,
    ) -> (Vec<Segment>, usize) {
        let mut segs = vec![NO_SEGMENT; max];
        let (n, bytes) = split_segments(va, len, &mut segs, device_writes, to_phys);
        segs.truncate(n);
        (segs, bytes)
    }

    #[test]
    fn contiguous_buffer_is_one_segment() {
        let (segs, n) = split(0x10_0000, 64 * 1024, 62, true, |va| va + 0x1000);
        assert_eq!(n, 64 * 1024);
        assert_eq!(
            segs,
            vec![Segment {
                addr: 0x10_1000,
                len: 64 * 1024,
                device_writes: true
            }]
        );
    }

    #[test]
    fn scattered_pages_split_and_stop_at_a_sector() {
        // Every page maps somewhere unrelated: one segment per page.
        let scatter = |va: u64| (va & 0xfff) + ((va >> 12) * 7 % 101) * 0x10_0000;
        let (segs, n) = split(0x5000 + 100, 8 * 4096, 3, false, scatter);
        // 3 segments: 3996 + 4096 + 4096 = 12188 bytes, trimmed to 23 sectors.
        assert_eq!(n, 23 * 512);
        assert_eq!(segs.len(), 3);
        assert_eq!(segs.iter().map(|s| s.len as usize).sum::<usize>(), n);
        assert_eq!(segs[0].addr, scatter(0x5000 + 100));
        assert_eq!(segs[0].len, 3996);
        assert!(segs.iter().all(|s| !s.device_writes));
    }

    #[test]
    fn large_transfers_are_capped() {
        let (segs, n) = split(0, 3 * MAX_REQUEST_BYTES, 62, true, |va| va);
        assert_eq!(n, MAX_REQUEST_BYTES);
        assert_eq!(segs.len(), 1);
    }

    #[test]
    fn a_short_tail_is_trimmed_away() {
        // 100 bytes then a page elsewhere: only whole sectors are kept.
        let (segs, n) = split(0x1000 - 100, 612, 4, true, |va| va * 2);
        assert_eq!(n, 512);
        assert_eq!(segs.iter().map(|s| s.len as usize).sum::<usize>(), 512);
    }
}
