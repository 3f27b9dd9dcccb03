//! File-backed pages and what they are backed by: the [`Backing`] a mapping
//! reads and writes (the kernel's open files; an in-memory file in the host
//! tests), one `mmap` ([`Mapping`]), and the file page's states and its side
//! of `swap_in`, `swap_out` and `destroy`. A file page is read from the file
//! on first touch, written back only when dirty (at eviction, munmap and
//! exit) and only for the bytes inside the file; it never goes to swap.
use super::addr::PageRef;
use super::frame::{Frame, FrameTable};
use super::hw::IoError;
use super::page::{Resident, SwapOut};
use abi::layout::PAGE_SIZE;
use alloc::sync::Arc;

/// Byte-addressed storage a page can be read from and written back to.
pub trait Backing: Send + Sync {
    /// Reads into `buf` from byte `offset`; returns the bytes read (fewer at
    /// the end of the file). `IoError` when the disk fails.
    fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<usize, IoError>;
    /// Writes `buf` at byte `offset`; returns the bytes written (files never
    /// grow). `IoError` when the disk fails.
    fn write_at(&self, buf: &[u8], offset: u64) -> Result<usize, IoError>;
}

impl Backing for crate::fs::File {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<usize, IoError> {
        crate::fs::File::read_at(self, buf, offset).map_err(|_| IoError)
    }

    fn write_at(&self, buf: &[u8], offset: u64) -> Result<usize, IoError> {
        crate::fs::File::write_at(self, buf, offset).map_err(|_| IoError)
    }
}

/// One `mmap` of a file.
pub struct Mapping {
    /// The mapping's own reference to the file (closing or removing the fd's
    /// file does not unmap).
    pub file: Arc<dyn Backing>,
    /// File offset of the mapping's first page.
    pub offset: u64,
    /// The file's length when it was mapped (files keep their size).
    pub file_len: u64,
    /// Whether the mapping may be written (its dirty pages are written back).
    pub writable: bool,
}

impl core::fmt::Debug for Mapping {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Mapping")
            .field("offset", &self.offset)
            .field("file_len", &self.file_len)
            .field("writable", &self.writable)
            .finish()
    }
}

impl Mapping {
    /// The file offset and the number of bytes from the file (the rest
    /// reads as zeros and is never written back) of page `index`.
    pub fn page_bytes(&self, index: u32) -> (u64, usize) {
        let offset = self.offset + index as u64 * PAGE_SIZE;
        let n = self.file_len.saturating_sub(offset).min(PAGE_SIZE) as usize;
        (offset, n)
    }

    /// `file_backed_swap_in`: reads page `index` into `frame` (zeros past the
    /// file's end; `zeroed`: the frame holds zeros already).
    pub fn read_page(&self, index: u32, frame: &mut [u8], zeroed: bool) -> Result<(), IoError> {
        let (offset, n) = self.page_bytes(index);
        if !zeroed {
            frame[n..].fill(0);
        }
        if n > 0 && self.file.read_at(&mut frame[..n], offset)? != n {
            return Err(IoError);
        }
        Ok(())
    }

    /// Writes page `index` back from `frame` (the bytes inside the file).
    pub fn write_page(&self, index: u32, frame: &[u8]) -> Result<(), IoError> {
        let (offset, n) = self.page_bytes(index);
        if n > 0 && self.file.write_at(&frame[..n], offset)? != n {
            return Err(IoError);
        }
        Ok(())
    }
}

/// The state of a file page.
#[derive(Debug)]
pub enum FilePage {
    /// Not in memory: read from the file on the next fault.
    Lazy,
    /// In memory.
    Resident(Resident),
}

impl FilePage {
    /// The page's frame, if it is in memory.
    pub fn resident(&self) -> Option<&Resident> {
        match self {
            FilePage::Resident(r) => Some(r),
            FilePage::Lazy => None,
        }
    }

    /// The page's frame to change, if it is in memory.
    pub fn resident_mut(&mut self) -> Option<&mut Resident> {
        match self {
            FilePage::Resident(r) => Some(r),
            FilePage::Lazy => None,
        }
    }

    /// The page was read from the file into memory.
    pub fn swapped_in(&mut self, resident: Resident) {
        if let FilePage::Resident(old) = core::mem::replace(self, FilePage::Resident(resident)) {
            crate::vm::leak_frame(old.frame);
        }
    }

    /// `file_backed_swap_out`: a dirty page is written back, then dropped.
    pub fn swap_out_plan(dirty: bool) -> SwapOut {
        if dirty {
            SwapOut::ToFile
        } else {
            SwapOut::Drop
        }
    }

    /// The page left memory; returns its frame share.
    pub fn swapped_out(&mut self) -> Option<Frame> {
        match core::mem::replace(self, FilePage::Lazy) {
            FilePage::Resident(r) => Some(r.frame),
            FilePage::Lazy => None,
        }
    }

    /// `fork`: the child's copy shares the frame (its first write copies it,
    /// and a dirty copy is written back by whichever page holds it).
    pub fn fork(&self, child: PageRef, frames: &mut FrameTable) -> FilePage {
        match self {
            FilePage::Lazy => FilePage::Lazy,
            FilePage::Resident(r) => FilePage::Resident(r.share(child, frames)),
        }
    }

    /// `file_backed_destroy`: what the page holds, for the caller to release
    /// (after writing it back when dirty).
    pub fn destroy(self) -> Option<Resident> {
        match self {
            FilePage::Resident(r) => Some(r),
            FilePage::Lazy => None,
        }
    }
}
