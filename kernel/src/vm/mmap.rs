//! The argument rules of `mmap` (Pintos): pure checks, unit-tested on the host.
use abi::layout::{PAGE_SIZE, USER_LIMIT};

/// Why an mmap request is refused (the call returns NULL; the process goes on).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MmapError {
    NullAddress,
    MisalignedAddress,
    MisalignedOffset,
    ZeroLength,
    /// The range wraps around or reaches kernel space.
    OutOfUserSpace,
    /// fd 0 or 1 (console), or not an open file.
    BadFd,
    EmptyFile,
    /// Some page of the range already exists.
    Overlap,
    OutOfMemory,
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

/// Bytes of page `i` of a mapping of a `file_len`-byte file from `offset` that
/// come from the file.
pub fn read_bytes(file_len: u64, offset: u64, i: u64) -> u32 {
    let start = offset + i * PAGE_SIZE;
    file_len.saturating_sub(start).min(PAGE_SIZE) as u32
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

    #[test]
    fn tail_bytes() {
        assert_eq!(read_bytes(10_000, 0, 0), 4096);
        assert_eq!(read_bytes(10_000, 0, 2), 10_000 - 8192);
        assert_eq!(read_bytes(10_000, 0, 3), 0);
        assert_eq!(read_bytes(10_000, 8192, 0), 10_000 - 8192);
    }
}
