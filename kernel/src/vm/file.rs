//! File-backed pages and memory-mapped files (`do_mmap`, `do_munmap`): a
//! mapping keeps its own reopened reference to the file; its pages read from
//! the file on first touch, are written back only when dirty (on munmap,
//! eviction and exit) and only for the bytes inside the file.
use super::VmError;
use super::page::FilePage;
use crate::fs::File;

/// One `mmap` of a file.
#[derive(Debug)]
pub struct Mapping {
    /// The mapping's own reference (closing or removing the fd's file does not unmap).
    pub file: File,
    /// First page address.
    pub start: u64,
    /// Number of pages.
    pub pages: u64,
}

/// Reads the page from the file into `frame` (zeros past the file's end).
pub fn swap_in(page: &FilePage, frame: &mut [u8]) -> Result<(), VmError> {
    let n = page.read_bytes as usize;
    frame[n..].fill(0);
    if n > 0
        && !page
            .mapping
            .file
            .read_at(&mut frame[..n], page.offset)
            .is_ok_and(|got| got == n)
    {
        return Err(VmError::Io);
    }
    Ok(())
}

/// Writes the page back if it was modified (`hw_dirty` from the page table,
/// or the page's own flag); afterwards it is clean.
pub fn write_back(page: &mut FilePage, frame: &[u8], hw_dirty: bool) -> Result<(), VmError> {
    if hw_dirty || page.dirty {
        let n = page.read_bytes as usize;
        if n > 0
            && !page
                .mapping
                .file
                .write_at(&frame[..n], page.offset)
                .is_ok_and(|put| put == n)
        {
            return Err(VmError::Io);
        }
        page.dirty = false;
    }
    Ok(())
}
