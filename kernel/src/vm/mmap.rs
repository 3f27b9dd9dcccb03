//! `do_mmap` and `do_munmap`, and the argument rules of `mmap` (Pintos).
//! A mapping is one region: mapping any length that fits the user address
//! space costs the same; its pages get SPT entries as they are touched.
//! `munmap` writes dirty pages back and removes the region.
use super::Vm;
use super::addr::{SpaceId, UserPage};
use super::file::{Backing, Mapping};
use super::hw::{Hw, Table};
use super::region::{Kind, Region, RegionError};
use abi::layout::{PAGE_SIZE, USER_LIMIT};
use alloc::sync::Arc;

/// Why an mmap request is refused (the call returns NULL; the process goes on).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MmapError {
    /// `addr` is 0.
    NullAddress,
    /// `addr` is not page-aligned.
    MisalignedAddress,
    /// `offset` is negative or not page-aligned.
    MisalignedOffset,
    /// `length` is 0.
    ZeroLength,
    /// The range wraps around or reaches kernel space.
    OutOfUserSpace,
    /// fd 0 or 1 (console), or not an open file.
    BadFd,
    /// The file is empty.
    EmptyFile,
    /// Some page of the range already exists.
    Overlap,
    /// No kernel memory for the region.
    OutOfMemory,
}

/// The arguments of `mmap` besides the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MmapArgs {
    /// Where the mapping starts (page-aligned, nonzero).
    pub addr: u64,
    /// Its length in bytes (the last page is partly the file, partly zeros).
    pub length: u64,
    /// Whether it may be written.
    pub writable: bool,
    /// The file offset of its first page (page-aligned).
    pub offset: i64,
}

/// Checks the address arguments; returns the number of pages to map.
pub fn check_range(addr: u64, length: u64, offset: i64) -> Result<u64, MmapError> {
    if addr == 0 {
        return Err(MmapError::NullAddress);
    }
    if !addr.is_multiple_of(PAGE_SIZE) {
        return Err(MmapError::MisalignedAddress);
    }
    if offset < 0 || !(offset as u64).is_multiple_of(PAGE_SIZE) {
        return Err(MmapError::MisalignedOffset);
    }
    if length == 0 {
        return Err(MmapError::ZeroLength);
    }
    let pages = length.div_ceil(PAGE_SIZE);
    let end = pages
        .checked_mul(PAGE_SIZE)
        .and_then(|bytes| addr.checked_add(bytes));
    match end {
        Some(end) if end <= USER_LIMIT => Ok(pages),
        _ => Err(MmapError::OutOfUserSpace),
    }
}

/// Checks the file descriptor (before looking it up).
pub fn check_fd(fd: i64) -> Result<(), MmapError> {
    if fd == abi::syscall::STDIN_FILENO as i64 || fd == abi::syscall::STDOUT_FILENO as i64 || fd < 0
    {
        Err(MmapError::BadFd)
    } else {
        Ok(())
    }
}

impl<H: Hw> Vm<H> {
    /// `do_mmap`: maps `args.length` bytes of `file` (`file_len` bytes long)
    /// from `args.offset` at `args.addr` in space `id`, lazily; returns the
    /// address. Refused
    /// (the call returns NULL) for bad arguments, an empty file, a range that
    /// overlaps any region (the executable, the stack's 1 MiB, another
    /// mapping), or no kernel memory for the region.
    pub fn mmap(
        &mut self,
        id: SpaceId,
        args: MmapArgs,
        file: Arc<dyn Backing>,
        file_len: u64,
    ) -> Result<u64, MmapError> {
        let MmapArgs {
            addr,
            length,
            writable,
            offset,
        } = args;
        let pages = check_range(addr, length, offset)?;
        if file_len == 0 {
            return Err(MmapError::EmptyFile);
        }
        let start = UserPage::at(addr).ok_or(MmapError::OutOfUserSpace)?;
        let pages = u32::try_from(pages).map_err(|_| MmapError::OutOfUserSpace)?;
        let mapping = crate::mm::fallible::try_arc(Mapping {
            file,
            offset: offset as u64,
            file_len,
            writable,
        })
        .map_err(|_| MmapError::OutOfMemory)?;
        let region = Region {
            start,
            end: start.add(pages),
            kind: Kind::Mmap(mapping),
        };
        let space = self.space_mut(id).map_err(|_| MmapError::OutOfMemory)?;
        match space.regions.insert(region) {
            Ok(()) => Ok(addr),
            Err(RegionError::Overlap) => Err(MmapError::Overlap),
            Err(RegionError::OutOfMemory) => Err(MmapError::OutOfMemory),
        }
    }

    /// `do_munmap`: unmaps the mapping that starts at `addr`, writing its
    /// dirty pages back; any other address is ignored.
    pub fn munmap(&mut self, id: SpaceId, addr: u64) {
        let Some(start) = UserPage::at(addr) else {
            return;
        };
        let Ok(space) = self.space(id) else {
            return;
        };
        let Some(end) = space
            .regions
            .iter()
            .find(|r| r.start == start && r.is_file_backed())
            .map(|r| r.end)
        else {
            return;
        };
        // Walk whichever is smaller: the mapping's pages or the SPT.
        let span = start.pages_to(end) as usize;
        if span <= 4 * space.spt.len() {
            for n in start.number()..end.number() {
                self.destroy_page(id, UserPage::from_number(n));
            }
        } else {
            self.destroy_pages_where(id, |p| (start..end).contains(&p));
        }
        let loaded = self.space(id).is_ok_and(|s| s.pt.is_loaded());
        self.hw.flush_all(loaded);
        if let Ok(space) = self.space_mut(id) {
            space.regions.remove_mmap(start);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules() {
        assert_eq!(check_range(0, 4096, 0), Err(MmapError::NullAddress));
        assert_eq!(
            check_range(0x1000_0001, 4096, 0),
            Err(MmapError::MisalignedAddress)
        );
        assert_eq!(
            check_range(0x1000_0000, 4096, 100),
            Err(MmapError::MisalignedOffset)
        );
        assert_eq!(
            check_range(0x1000_0000, 4096, -4096),
            Err(MmapError::MisalignedOffset)
        );
        assert_eq!(check_range(0x1000_0000, 0, 0), Err(MmapError::ZeroLength));
        assert_eq!(check_range(0x1000_0000, 1, 0), Ok(1));
        assert_eq!(check_range(0x1000_0000, 4097, 4096), Ok(2));
        assert_eq!(check_range(USER_LIMIT - 4096, 4096, 0), Ok(1));
        assert_eq!(
            check_range(USER_LIMIT - 4096, 4097, 0),
            Err(MmapError::OutOfUserSpace)
        );
        assert_eq!(
            check_range(USER_LIMIT, 4096, 0),
            Err(MmapError::OutOfUserSpace)
        );
        assert_eq!(
            check_range(0xffff_ffff_ffff_f000, 0x2000, 0),
            Err(MmapError::OutOfUserSpace)
        );
        assert_eq!(
            check_range(0x1000, u64::MAX, 0),
            Err(MmapError::OutOfUserSpace)
        );
        assert_eq!(check_fd(0), Err(MmapError::BadFd));
        assert_eq!(check_fd(1), Err(MmapError::BadFd));
        assert_eq!(check_fd(-5), Err(MmapError::BadFd));
        assert_eq!(check_fd(2), Ok(()));
    }
}
