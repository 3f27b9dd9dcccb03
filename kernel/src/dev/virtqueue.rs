//! Driver side of a virtio 1.x split virtqueue.
//!
//! One queue lives in one 4 KiB page shared with the device: the descriptor
//! table at offset 0, the available ("driver") ring at [`AVAIL_OFFSET`] and the
//! used ("device") ring at [`USED_OFFSET`]; at most [`MAX_SIZE`] entries fit.
//! The driver builds descriptor chains from guest-physical [`Segment`]s, puts
//! their heads in the available ring and later collects them from the used
//! ring. Ring memory is touched only with volatile accesses and explicit
//! fences because the device (a VMM thread) reads and writes it concurrently.
//!
//! The queue itself knows nothing about where its page came from: it is given
//! the page's kernel virtual and guest-physical addresses, so the logic runs on
//! the host in unit tests against a simulated device.

use alloc::vec::Vec;
use core::ptr::{read_volatile, write_volatile};

use crate::arch::mmio::{mb, rmb, wmb};

/// Most entries a queue may have (everything fits in one page).
pub const MAX_SIZE: u16 = 64;
/// Byte offset of the available ring inside the queue page.
pub const AVAIL_OFFSET: usize = 16 * MAX_SIZE as usize;
/// Byte offset of the used ring inside the queue page (4-byte aligned).
pub const USED_OFFSET: usize = 2048;
/// Byte offset of the queue page's spare bytes, which the rings never use
/// (the used ring ends before 2600): a driver that runs one request at a
/// time keeps its request header and status there.
pub const SCRATCH_OFFSET: usize = 3072;
/// Size of the spare area.
pub const SCRATCH_SIZE: usize = 1024;

/// Descriptor flag: the chain continues in `next`.
pub const DESC_F_NEXT: u16 = 1;
/// Descriptor flag: the device writes this buffer (otherwise it reads it).
pub const DESC_F_WRITE: u16 = 2;
/// Available-ring flag: the driver does not want an interrupt on completion.
pub const AVAIL_F_NO_INTERRUPT: u16 = 1;
/// Used-ring flag: the device does not need a notify for new buffers.
pub const USED_F_NO_NOTIFY: u16 = 1;

/// One guest-physical buffer of a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    /// Guest-physical address.
    pub addr: u64,
    /// Length in bytes.
    pub len: u32,
    /// The device writes this buffer (a read from the disk).
    pub device_writes: bool,
}

/// Why a chain could not be queued.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueueError {
    /// An empty chain was given.
    Empty,
    /// Not enough free descriptors for the chain.
    Full,
}

/// A split virtqueue of `size` entries in one shared page.
pub struct Virtqueue {
    /// Kernel virtual address of the queue page.
    va: *mut u8,
    /// Guest-physical address of the queue page.
    pa: u64,
    size: u16,
    /// Head of the free-descriptor list (linked through the descriptors'
    /// `next` fields, which only the driver reads while they are free).
    free_head: u16,
    num_free: u16,
    /// Next index the driver writes in the available ring (free-running).
    avail_idx: u16,
    /// Next used-ring index the driver has not consumed (free-running).
    last_used: u16,
    /// Descriptors in each in-flight chain, by head index.
    chain_len: Vec<u16>,
}

// SAFETY: the queue page is owned by this queue (no other kernel object refers
// to it), so moving the queue to another thread moves sole ownership of it.
unsafe impl Send for Virtqueue {}

impl Virtqueue {
    /// Lays out a queue of `size` entries (a power of two, 1..=MAX_SIZE) in the
    /// zeroed page at kernel address `va` / guest-physical address `pa`.
    /// Returns `None` for a bad size.
    ///
    /// # Safety
    /// `va` must point to a writable, zeroed, 4 KiB-aligned page that nothing
    /// else uses for as long as the queue (and the device) use it, and `pa`
    /// must be its guest-physical address.
    pub unsafe fn new(va: *mut u8, pa: u64, size: u16) -> Option<Virtqueue> {
        if size == 0 || size > MAX_SIZE || !size.is_power_of_two() {
            return None;
        }
        let mut q = Virtqueue {
            va,
            pa,
            size,
            free_head: 0,
            num_free: size,
            avail_idx: 0,
            last_used: 0,
            chain_len: alloc::vec![0; size as usize],
        };
        for i in 0..size {
            q.write_desc_next(i, (i + 1) % size);
        }
        q.write_u16(AVAIL_OFFSET, AVAIL_F_NO_INTERRUPT);
        Some(q)
    }

    /// Number of entries.
    pub fn size(&self) -> u16 {
        self.size
    }

    /// Guest-physical address of the descriptor table.
    pub fn desc_pa(&self) -> u64 {
        self.pa
    }

    /// Guest-physical address of the available ring.
    pub fn avail_pa(&self) -> u64 {
        self.pa + AVAIL_OFFSET as u64
    }

    /// Guest-physical address of the used ring.
    pub fn used_pa(&self) -> u64 {
        self.pa + USED_OFFSET as u64
    }

    /// Kernel virtual and guest-physical addresses of the page's spare
    /// bytes ([`SCRATCH_OFFSET`], [`SCRATCH_SIZE`] bytes).
    pub fn scratch(&self) -> (*mut u8, u64) {
        (
            self.va.wrapping_add(SCRATCH_OFFSET),
            self.pa + SCRATCH_OFFSET as u64,
        )
    }

    /// Free descriptors.
    pub fn num_free(&self) -> u16 {
        self.num_free
    }

    /// Builds a chain of `segs` (in order) and publishes it in the available
    /// ring. Returns the chain's head index. The caller then notifies the
    /// device if [`Virtqueue::needs_notify`] says so.
    pub fn push(&mut self, segs: &[Segment]) -> Result<u16, QueueError> {
        self.push_with(segs.len(), |i| segs[i])
    }

    /// [`Virtqueue::push`] of the `len` segments `seg(0..len)`.
    pub fn push_with(
        &mut self,
        len: usize,
        seg: impl Fn(usize) -> Segment,
    ) -> Result<u16, QueueError> {
        if len == 0 {
            return Err(QueueError::Empty);
        }
        if len > self.num_free as usize {
            return Err(QueueError::Full);
        }
        let head = self.free_head;
        let mut idx = head;
        for i in 0..len {
            let seg = seg(i);
            let next_free = self.read_desc_next(idx);
            let last = i + 1 == len;
            let mut flags = if seg.device_writes { DESC_F_WRITE } else { 0 };
            if !last {
                flags |= DESC_F_NEXT;
            }
            self.write_desc(
                idx,
                seg.addr,
                seg.len,
                flags,
                if last { 0 } else { next_free },
            );
            if last {
                self.free_head = next_free;
            }
            idx = next_free;
        }
        self.num_free -= len as u16;
        self.chain_len[head as usize] = len as u16;

        // The descriptors must be visible before the ring entry, and the ring
        // entry before the index that publishes it.
        let slot = self.avail_idx % self.size;
        wmb();
        self.write_u16(AVAIL_OFFSET + 4 + 2 * slot as usize, head);
        wmb();
        self.avail_idx = self.avail_idx.wrapping_add(1);
        self.write_u16(AVAIL_OFFSET + 2, self.avail_idx);
        Ok(head)
    }

    /// Whether the device wants a notify for the buffers just published
    /// (it clears `USED_F_NO_NOTIFY` when it may be asleep).
    pub fn needs_notify(&self) -> bool {
        // The published index must be visible before reading the device's flag,
        // or both sides could decide the other one will act.
        mb();
        self.read_u16(USED_OFFSET) & USED_F_NO_NOTIFY == 0
    }

    /// Takes the next completed chain from the used ring, frees its
    /// descriptors and returns `(head, bytes written by the device)`.
    /// `None` if the device has not completed anything new.
    pub fn pop_used(&mut self) -> Option<(u16, u32)> {
        let used_idx = self.read_u16(USED_OFFSET + 2);
        if used_idx == self.last_used {
            return None;
        }
        // Read the element only after seeing the index that covers it.
        rmb();
        let slot = (self.last_used % self.size) as usize;
        let elem = USED_OFFSET + 4 + 8 * slot;
        let id = self.read_u32(elem);
        let len = self.read_u32(elem + 4);
        self.last_used = self.last_used.wrapping_add(1);
        let head = u16::try_from(id).ok().filter(|&h| h < self.size)?;
        self.free_chain(head);
        Some((head, len))
    }

    /// Returns the descriptors of the chain at `head` to the free list.
    fn free_chain(&mut self, head: u16) {
        let n = core::mem::take(&mut self.chain_len[head as usize]);
        if n == 0 {
            return; // not in flight: a confused device; ignore it
        }
        let mut tail = head;
        for _ in 1..n {
            tail = self.read_desc_next(tail);
        }
        self.write_desc_next(tail, self.free_head);
        self.free_head = head;
        self.num_free += n;
    }

    fn write_desc(&mut self, i: u16, addr: u64, len: u32, flags: u16, next: u16) {
        let d = 16 * i as usize;
        self.write_u64(d, addr);
        self.write_u32(d + 8, len);
        self.write_u16(d + 12, flags);
        self.write_u16(d + 14, next);
    }

    fn read_desc_next(&self, i: u16) -> u16 {
        self.read_u16(16 * i as usize + 14)
    }

    fn write_desc_next(&mut self, i: u16, next: u16) {
        self.write_u16(16 * i as usize + 14, next);
    }

    fn read_u16(&self, off: usize) -> u16 {
        debug_assert!(off.is_multiple_of(2) && off + 2 <= 4096);
        // SAFETY: `off` is an aligned offset inside the queue page that `new`'s
        // contract makes ours; the device may write it concurrently, hence volatile.
        unsafe { read_volatile(self.va.add(off) as *const u16) }
    }

    fn read_u32(&self, off: usize) -> u32 {
        debug_assert!(off.is_multiple_of(4) && off + 4 <= 4096);
        // SAFETY: as in `read_u16`.
        unsafe { read_volatile(self.va.add(off) as *const u32) }
    }

    fn write_u16(&mut self, off: usize, v: u16) {
        debug_assert!(off.is_multiple_of(2) && off + 2 <= 4096);
        // SAFETY: as in `read_u16`; the driver owns the fields it writes.
        unsafe { write_volatile(self.va.add(off) as *mut u16, v) }
    }

    fn write_u32(&mut self, off: usize, v: u32) {
        debug_assert!(off.is_multiple_of(4) && off + 4 <= 4096);
        // SAFETY: as in `write_u16`.
        unsafe { write_volatile(self.va.add(off) as *mut u32, v) }
    }

    fn write_u64(&mut self, off: usize, v: u64) {
        debug_assert!(off.is_multiple_of(8) && off + 8 <= 4096);
        // SAFETY: as in `write_u16`.
        unsafe { write_volatile(self.va.add(off) as *mut u64, v) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A zeroed, page-aligned page standing in for guest memory (pa == va).
    #[repr(C, align(4096))]
    struct Page([u8; 4096]);

    fn new_queue(size: u16) -> (Box<Page>, Virtqueue) {
        let mut page = Box::new(Page([0; 4096]));
        let va = page.0.as_mut_ptr();
        // SAFETY: the page is zeroed, aligned and kept alive by the caller.
        let q = unsafe { Virtqueue::new(va, va as u64, size) }.unwrap();
        (page, q)
    }

    fn rd16(p: &Page, off: usize) -> u16 {
        u16::from_le_bytes([p.0[off], p.0[off + 1]])
    }

    /// The device side: walks the chains the driver published since `seen`
    /// and returns them as segment lists.
    fn device_pop(p: &Page, size: u16, seen: &mut u16) -> Vec<(u16, Vec<Segment>)> {
        let mut out = Vec::new();
        let idx = rd16(p, AVAIL_OFFSET + 2);
        while *seen != idx {
            let head = rd16(p, AVAIL_OFFSET + 4 + 2 * (*seen % size) as usize);
            let mut segs = Vec::new();
            let mut i = head;
            loop {
                let d = 16 * i as usize;
                let addr = u64::from_le_bytes(p.0[d..d + 8].try_into().unwrap());
                let len = u32::from_le_bytes(p.0[d + 8..d + 12].try_into().unwrap());
                let flags = rd16(p, d + 12);
                segs.push(Segment {
                    addr,
                    len,
                    device_writes: flags & DESC_F_WRITE != 0,
                });
                if flags & DESC_F_NEXT == 0 {
                    break;
                }
                i = rd16(p, d + 14);
            }
            out.push((head, segs));
            *seen = seen.wrapping_add(1);
        }
        out
    }

    fn device_complete(p: &mut Page, size: u16, head: u16, len: u32) {
        let idx = rd16(p, USED_OFFSET + 2);
        let e = USED_OFFSET + 4 + 8 * (idx % size) as usize;
        p.0[e..e + 4].copy_from_slice(&(head as u32).to_le_bytes());
        p.0[e + 4..e + 8].copy_from_slice(&len.to_le_bytes());
        p.0[USED_OFFSET + 2..USED_OFFSET + 4].copy_from_slice(&idx.wrapping_add(1).to_le_bytes());
    }

    fn seg(addr: u64, len: u32, w: bool) -> Segment {
        Segment {
            addr,
            len,
            device_writes: w,
        }
    }

    #[test]
    fn rejects_bad_sizes() {
        let mut page = Box::new(Page([0; 4096]));
        let va = page.0.as_mut_ptr();
        for bad in [0, 3, 128] {
            // SAFETY: as in `new_queue`.
            assert!(unsafe { Virtqueue::new(va, va as u64, bad) }.is_none());
        }
    }

    #[test]
    fn device_sees_the_chain_as_pushed() {
        let (page, mut q) = new_queue(8);
        assert_eq!(rd16(&page, AVAIL_OFFSET), AVAIL_F_NO_INTERRUPT);
        let chain = [
            seg(0x1000, 16, false),
            seg(0x2000, 4096, true),
            seg(0x3000, 1, true),
        ];
        let head = q.push(&chain).unwrap();
        assert_eq!(q.num_free(), 5);
        let mut seen = 0;
        let got = device_pop(&page, 8, &mut seen);
        assert_eq!(got, vec![(head, chain.to_vec())]);
        assert!(q.needs_notify());
    }

    #[test]
    fn completions_free_descriptors_and_wrap_around() {
        let (mut page, mut q) = new_queue(4);
        let mut seen = 0;
        // Many more requests than entries: indices wrap, descriptors recycle.
        for round in 0..1000u32 {
            let chain = [
                seg(round as u64, 16, false),
                seg(0x9000, 512, true),
                seg(0xa000, 1, true),
            ];
            let head = q.push(&chain).unwrap();
            assert_eq!(q.pop_used(), None, "nothing completed yet");
            let got = device_pop(&page, 4, &mut seen);
            assert_eq!(got.len(), 1);
            assert_eq!(got[0].1[0].addr, round as u64);
            device_complete(&mut page, 4, got[0].0, 513);
            assert_eq!(q.pop_used(), Some((head, 513)));
            assert_eq!(q.num_free(), 4);
        }
    }

    #[test]
    fn full_queue_is_refused_until_a_completion() {
        let (mut page, mut q) = new_queue(4);
        let a = q.push(&[seg(1, 1, false), seg(2, 1, true)]).unwrap();
        let b = q.push(&[seg(3, 1, false), seg(4, 1, true)]).unwrap();
        assert_eq!(q.push(&[seg(5, 1, false)]), Err(QueueError::Full));
        assert_eq!(q.push(&[]), Err(QueueError::Empty));
        let mut seen = 0;
        assert_eq!(device_pop(&page, 4, &mut seen).len(), 2);
        // Out-of-order completion.
        device_complete(&mut page, 4, b, 1);
        assert_eq!(q.pop_used(), Some((b, 1)));
        let c = q.push(&[seg(6, 1, false), seg(7, 1, true)]).unwrap();
        device_complete(&mut page, 4, a, 1);
        device_complete(&mut page, 4, c, 1);
        assert_eq!(q.pop_used(), Some((a, 1)));
        assert_eq!(q.pop_used(), Some((c, 1)));
        assert_eq!(q.num_free(), 4);
        // A bogus id from the device is skipped, not trusted.
        device_complete(&mut page, 4, 99, 1);
        assert_eq!(q.pop_used(), None);
        assert_eq!(q.num_free(), 4);
    }

    #[test]
    fn honours_no_notify() {
        let (mut page, mut q) = new_queue(4);
        page.0[USED_OFFSET] = USED_F_NO_NOTIFY as u8;
        q.push(&[seg(1, 1, false)]).unwrap();
        assert!(!q.needs_notify());
    }
}
