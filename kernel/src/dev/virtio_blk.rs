//! virtio block device driver: one request queue, polled for completion.
//!
//! A request is a descriptor chain: a 16-byte header the device reads (type,
//! sector), the data buffers (device-written for reads), and a 1-byte status
//! the device writes. Data buffers are described page by page through
//! [`crate::mm::virt_to_phys`] (physically adjacent pages merge into one
//! descriptor), so one request can carry several separate buffers; transfers
//! too large for one chain are split into several requests.
//!
//! The notify is served on a VMM thread (ioeventfd), so completion is
//! asynchronous: the driver polls the used ring, yielding the CPU between
//! polls. Requests are serialized by a sleeping [`Mutex`] around the queue.

use alloc::boxed::Box;
use alloc::vec::Vec;

use super::BlockError;
use super::virtio_mmio::{DEVICE_ID_BLOCK, F_VERSION_1, Transport};
use super::virtqueue::{Segment, Virtqueue};
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
        let segs: Vec<Segment> = frames
            .iter()
            .map(|&addr| Segment {
                addr,
                len: FRAME as u32,
                device_writes: kind == T_IN,
            })
            .collect();
        self.request(&mut queue, kind, sector, &segs)
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
            let (segs, bytes) =
                data_segments(va + done as u64, len - done, max_data, device_writes);
            if bytes == 0 {
                return Err(BlockError::Io);
            }
            self.request(
                &mut queue,
                kind,
                sector + (done / SECTOR_SIZE) as u64,
                &segs,
            )?;
            drop(queue);
            done += bytes;
        }
        Ok(())
    }

    /// Runs one request with the given data segments and waits for it.
    fn request(
        &self,
        queue: &mut Virtqueue,
        kind: u32,
        sector: u64,
        data: &[Segment],
    ) -> Result<(), BlockError> {
        let header = Box::new(RequestHeader {
            kind,
            reserved: 0,
            sector,
        });
        let status = Box::new(S_PENDING);
        let status_ptr: *const u8 = &*status;
        let mut chain = Vec::with_capacity(data.len() + 2);
        chain.push(Segment {
            addr: crate::mm::virt_to_phys(&*header as *const RequestHeader as u64),
            len: core::mem::size_of::<RequestHeader>() as u32,
            device_writes: false,
        });
        chain.extend_from_slice(data);
        chain.push(Segment {
            addr: crate::mm::virt_to_phys(status_ptr as u64),
            len: 1,
            device_writes: true,
        });

        let head = queue.push(&chain).map_err(|_| BlockError::Io)?;
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
        // SAFETY: `status` is a live heap byte; the device wrote it before
        // publishing the used entry that `pop_used` read (with a fence after).
        let status = unsafe { core::ptr::read_volatile(status_ptr) };
        drop(header);
        match status {
            S_OK => Ok(()),
            S_UNSUPP => Err(BlockError::Unsupported),
            _ => Err(BlockError::Io),
        }
    }
}

/// Splits up to `len` bytes at kernel address `va` into at most `max_segs`
/// guest-physical segments (page by page, merging physically adjacent pages),
/// stopping at [`MAX_REQUEST_BYTES`]. Returns the segments and the bytes they
/// cover, a multiple of the sector size (at least one sector when `len` is a
/// non-zero multiple of it and `max_segs >= 2`).
fn data_segments(
    va: u64,
    len: usize,
    max_segs: usize,
    device_writes: bool,
) -> (Vec<Segment>, usize) {
    split_segments(va, len, max_segs, device_writes, crate::mm::virt_to_phys)
}

/// [`data_segments`] with the address translation as a parameter.
fn split_segments(
    va: u64,
    len: usize,
    max_segs: usize,
    device_writes: bool,
    to_phys: impl Fn(u64) -> u64,
) -> (Vec<Segment>, usize) {
    let mut segs: Vec<Segment> = Vec::new();
    let end = va + len as u64;
    let mut cur = va;
    let mut total = 0usize;
    while cur < end && total < MAX_REQUEST_BYTES {
        let page_end = (cur & !(PAGE_SIZE - 1)) + PAGE_SIZE;
        let n = page_end.min(end) - cur;
        let pa = to_phys(cur);
        if let Some(last) = segs.last_mut().filter(|l| l.addr + l.len as u64 == pa) {
            last.len += n as u32;
        } else if segs.len() == max_segs {
            break;
        } else {
            segs.push(Segment {
                addr: pa,
                len: n as u32,
                device_writes,
            });
        }
        total += n as usize;
        cur += n;
    }
    // Whole sectors only: trim the tail back to a sector boundary.
    let mut excess = total % SECTOR_SIZE;
    total -= excess;
    while excess > 0 {
        let Some(last) = segs.last_mut() else { break };
        let cut = excess.min(last.len as usize);
        last.len -= cut as u32;
        excess -= cut;
        if last.len == 0 {
            segs.pop();
        }
    }
    (segs, total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contiguous_buffer_is_one_segment() {
        let (segs, n) = split_segments(0x10_0000, 64 * 1024, 62, true, |va| va + 0x1000);
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
        let (segs, n) = split_segments(0x5000 + 100, 8 * 4096, 3, false, scatter);
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
        let (segs, n) = split_segments(0, 3 * MAX_REQUEST_BYTES, 62, true, |va| va);
        assert_eq!(n, MAX_REQUEST_BYTES);
        assert_eq!(segs.len(), 1);
    }
}
