//! The machine traits of [`super::hw`] over the real thing: user frames from
//! the user pool (bytes through [`FrameAccess`]), the x86-64 page tables of
//! `arch::paging`, the swap disk (virtio block device), the TLB (one
//! invalidation of everything: a hypercall in the PVM guest mode, a CR3
//! reload in the native mode) and the console.
use super::addr::{PhysAddr, SwapSlot, UserPage};
use super::hw::{Hw, IoError, Prot, Pte, Table};
use crate::arch::paging::PageTable;
use crate::dev::BlockDevice;
use crate::mm::{FrameAccess, OutOfMemory, palloc};
use abi::layout::PAGE_SIZE;

/// Sectors per swap slot.
const SECTORS_PER_SLOT: u64 = PAGE_SIZE / abi::device::SECTOR_SIZE;

/// The kernel's machine.
pub struct KernelHw {
    frames: FrameAccess,
    swap: Option<&'static BlockDevice>,
}

impl KernelHw {
    /// The machine with the swap disk `swap` (none: only clean pages can be
    /// evicted); `None` if the frame token was taken already.
    pub fn new(swap: Option<&'static BlockDevice>) -> Option<KernelHw> {
        Some(KernelHw {
            frames: FrameAccess::take()?,
            swap,
        })
    }

    /// The kernel address of byte `offset` of frame `pa`.
    pub fn address(&mut self, pa: PhysAddr, offset: u64) -> *mut u8 {
        self.frames.address(pa.get(), offset)
    }
}

impl Table for PageTable {
    fn map(&mut self, page: UserPage, pa: PhysAddr, prot: Prot) -> Result<(), OutOfMemory> {
        PageTable::map(self, page.addr(), pa.get(), prot.write, prot.exec).map_err(|_| OutOfMemory)
    }

    fn clear(&mut self, page: UserPage) -> Option<Pte> {
        PageTable::clear(self, page.addr()).map(pte)
    }

    fn lookup(&self, page: UserPage) -> Option<Pte> {
        PageTable::lookup(self, page.addr()).map(pte)
    }

    fn flush(&mut self, page: UserPage) {
        PageTable::flush(self, page.addr());
    }

    fn test_and_clear_accessed(&mut self, page: UserPage) -> bool {
        PageTable::test_and_clear_accessed(self, page.addr())
    }

    fn is_loaded(&self) -> bool {
        PageTable::is_active(self)
    }

    fn token(&self) -> u64 {
        PageTable::token(self)
    }
}

fn pte(m: crate::arch::paging::Mapping) -> Pte {
    Pte {
        pa: PhysAddr::new(m.pa),
        write: m.writable,
        accessed: m.accessed,
        dirty: m.dirty,
    }
}

impl Hw for KernelHw {
    type Table = PageTable;

    fn new_table(&mut self) -> Result<PageTable, OutOfMemory> {
        PageTable::new().map_err(|_| OutOfMemory)
    }

    fn alloc_frame(&mut self) -> Option<(PhysAddr, bool)> {
        palloc::alloc_user_page_uninit().map(|(pa, zeroed)| (PhysAddr::new(pa), zeroed))
    }

    fn free_frames(&self) -> usize {
        let (used, total) = palloc::user_usage();
        total - used
    }

    fn free_frame(&mut self, pa: PhysAddr) {
        palloc::free_user_page(pa.get());
    }

    fn frame(&mut self, pa: PhysAddr) -> &mut [u8] {
        self.frames.bytes(pa.get())
    }

    fn copy_frame(&mut self, dst: PhysAddr, src: PhysAddr) {
        self.frames.copy(dst.get(), src.get());
    }

    fn swap_slots(&self) -> u32 {
        self.swap.map_or(0, |d| {
            (d.capacity() / SECTORS_PER_SLOT).min(u32::MAX as u64) as u32
        })
    }

    fn table_budget(&self) -> usize {
        crate::mm::free_bytes().saturating_sub(crate::mm::reserve_bytes()) / 4
    }

    fn swap_read(&mut self, pages: &[(SwapSlot, PhysAddr)]) -> Result<(), IoError> {
        let disk = self.swap.ok_or(IoError)?;
        disk.read_pages(pages.len(), |i| sector_and_frame(pages[i]))
            .map_err(|_| IoError)
    }

    fn swap_write(&mut self, pages: &[(SwapSlot, PhysAddr)]) -> Result<(), IoError> {
        let disk = self.swap.ok_or(IoError)?;
        disk.write_pages(pages.len(), |i| sector_and_frame(pages[i]))
            .map_err(|_| IoError)
    }

    fn flush_all(&mut self, loaded: bool) {
        crate::arch::paging::flush_all(loaded);
    }

    fn report_oom_kill(&mut self, pid: u32, name: &[u8], swap: (u32, u32)) {
        crate::userprog::process::report_oom_kill(pid, name, swap);
        super::api::note_reap();
    }
}

/// The disk's view of a page of swap: its first sector and its frame.
fn sector_and_frame((slot, frame): (SwapSlot, PhysAddr)) -> (u64, u64) {
    (slot.0 as u64 * SECTORS_PER_SLOT, frame.get())
}
