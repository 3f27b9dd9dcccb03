//! On-disk format of the file-system disk ("fltfs"): a flat directory of
//! contiguous, fixed-size files, as in Pintos.
//!
//! Sector 0 holds the [`SuperBlock`]; the directory table of
//! [`SuperBlock::dir_entries`] [`DirEntry`] records follows at
//! [`SuperBlock::dir_start`]; file data starts at [`SuperBlock::data_start`].
//! A file of `size` bytes occupies `ceil(size / 512)` consecutive sectors from
//! `start`. All integers are little-endian.
//!
//! [`check_superblock`] and [`check_directory`] ([`check`]) decide whether an
//! image is valid; the VMM and the kernel both use them.

pub mod check;

pub use check::{
    DIR_ENTRIES_MAX, EntryProblem, FormatError, check_directory, check_entry, check_superblock,
};

/// `SuperBlock::magic`: "fltfs\0\0\x01".
pub const FS_MAGIC: u64 = u64::from_le_bytes(*b"fltfs\0\0\x01");

/// Default number of directory entries.
pub const DEFAULT_DIR_ENTRIES: u64 = 256;

/// `DirEntry::flags` bit: the entry is in use.
pub const DIRENT_IN_USE: u32 = 1;

/// Sector 0 of the disk.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SuperBlock {
    /// [`FS_MAGIC`]: marks a faultline file system of this format version.
    pub magic: u64,
    /// Sectors on the disk.
    pub total_sectors: u64,
    /// First sector of the directory table.
    pub dir_start: u64,
    /// Number of directory entries (32 bytes each, 16 per sector).
    pub dir_entries: u64,
    /// First data sector.
    pub data_start: u64,
}

/// One directory entry, 32 bytes.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DirEntry {
    /// Name, NUL-padded; at most [`crate::syscall::NAME_MAX`] bytes.
    pub name: [u8; 16],
    /// First data sector.
    pub start: u32,
    /// Size in bytes.
    pub size: u32,
    /// [`DIRENT_IN_USE`] and nothing else.
    pub flags: u32,
    /// Zero; a checked image refuses anything else.
    pub reserved: u32,
}

/// Size of a [`DirEntry`] on disk.
pub const DIRENT_SIZE: usize = 32;

/// Sector size of the file-system disk.
pub const SECTOR: usize = 512;

/// Directory entries per sector.
pub const DIRENTS_PER_SECTOR: usize = SECTOR / DIRENT_SIZE;

/// Why a file name is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameError {
    /// The name has no bytes.
    Empty,
    /// The name is longer than [`crate::syscall::NAME_MAX`] bytes.
    TooLong,
    /// Contains a NUL, '/' or a space.
    BadChar,
}

/// Checks a file name: 1..=NAME_MAX bytes, no NUL, '/' or space.
pub fn validate_name(name: &[u8]) -> Result<(), NameError> {
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    if name.len() > crate::syscall::NAME_MAX {
        return Err(NameError::TooLong);
    }
    if name.iter().any(|&b| b == 0 || b == b'/' || b == b' ') {
        return Err(NameError::BadChar);
    }
    Ok(())
}

/// Sectors a file of `size` bytes occupies.
pub const fn sectors_for(size: u64) -> u64 {
    size.div_ceil(SECTOR as u64)
}

impl SuperBlock {
    /// A fresh superblock for a disk of `total_sectors` with `dir_entries` entries.
    pub const fn new(total_sectors: u64, dir_entries: u64) -> SuperBlock {
        let dir_sectors = dir_entries.div_ceil(DIRENTS_PER_SECTOR as u64);
        SuperBlock {
            magic: FS_MAGIC,
            total_sectors,
            dir_start: 1,
            dir_entries,
            data_start: 1 + dir_sectors,
        }
    }

    /// Serializes into the first 40 bytes of a sector.
    pub fn to_bytes(&self) -> [u8; SECTOR] {
        let mut s = [0u8; SECTOR];
        let fields = [
            self.magic,
            self.total_sectors,
            self.dir_start,
            self.dir_entries,
            self.data_start,
        ];
        for (i, f) in fields.iter().enumerate() {
            s[i * 8..i * 8 + 8].copy_from_slice(&f.to_le_bytes());
        }
        s
    }

    /// Parses sector 0 and checks it is self-consistent (as
    /// [`check_superblock`] does, for a disk of any size).
    pub fn from_bytes(s: &[u8]) -> Option<SuperBlock> {
        check_superblock(s, u64::MAX).ok()
    }

    /// Sectors holding the directory table.
    pub const fn dir_sectors(&self) -> u64 {
        self.dir_entries.div_ceil(DIRENTS_PER_SECTOR as u64)
    }
}

impl DirEntry {
    /// A used entry for `name` (which must pass [`validate_name`]).
    pub fn new(name: &[u8], start: u32, size: u32) -> DirEntry {
        let mut n = [0u8; 16];
        n[..name.len()].copy_from_slice(name);
        DirEntry {
            name: n,
            start,
            size,
            flags: DIRENT_IN_USE,
            reserved: 0,
        }
    }

    /// Whether the entry names a file (else it is a free slot).
    pub fn in_use(&self) -> bool {
        self.flags & DIRENT_IN_USE != 0
    }

    /// The name without its NUL padding.
    pub fn name(&self) -> &[u8] {
        let len = self
            .name
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(self.name.len());
        &self.name[..len]
    }

    /// The entry as it is stored on disk (little-endian fields).
    pub fn to_bytes(&self) -> [u8; DIRENT_SIZE] {
        let mut b = [0u8; DIRENT_SIZE];
        b[..16].copy_from_slice(&self.name);
        b[16..20].copy_from_slice(&self.start.to_le_bytes());
        b[20..24].copy_from_slice(&self.size.to_le_bytes());
        b[24..28].copy_from_slice(&self.flags.to_le_bytes());
        b[28..32].copy_from_slice(&self.reserved.to_le_bytes());
        b
    }

    /// Reads an entry from its on-disk bytes, the first [`DIRENT_SIZE`] of
    /// `b`; any bytes form an entry (checking it is
    /// [`crate::fs::check`]'s job). Panics if `b` is shorter than
    /// [`DIRENT_SIZE`]: callers pass one entry's slot of a sector.
    pub fn from_bytes(b: &[u8]) -> DirEntry {
        let w = |i: usize| u32::from_le_bytes(b[i..i + 4].try_into().unwrap());
        let mut name = [0u8; 16];
        name.copy_from_slice(&b[..16]);
        DirEntry {
            name,
            start: w(16),
            size: w(20),
            flags: w(24),
            reserved: w(28),
        }
    }

    /// Sector range `[start, end)` the entry's data occupies.
    pub fn extent(&self) -> (u64, u64) {
        (
            self.start as u64,
            self.start as u64 + sectors_for(self.size as u64),
        )
    }
}

/// First-fit search for `n` free consecutive data sectors, given the extents in
/// use (any order). Returns the first sector, or `None` when no gap is large enough.
/// Zero-sector requests get `data_start`.
pub fn find_free_extent(used: &mut [(u64, u64)], sb: &SuperBlock, n: u64) -> Option<u64> {
    used.sort_unstable();
    let mut cursor = sb.data_start;
    for &(start, end) in used.iter() {
        if start == end {
            continue;
        }
        if start >= cursor && start - cursor >= n {
            return Some(cursor);
        }
        cursor = cursor.max(end);
    }
    (sb.total_sectors.checked_sub(cursor)? >= n).then_some(cursor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn superblock_round_trips_and_rejects_garbage() {
        let sb = SuperBlock::new(2048, DEFAULT_DIR_ENTRIES);
        assert_eq!(sb.data_start, 1 + 16);
        assert_eq!(SuperBlock::from_bytes(&sb.to_bytes()), Some(sb));
        assert_eq!(SuperBlock::from_bytes(&[0u8; SECTOR]), None);
        let mut bad = sb;
        bad.data_start = 3000;
        assert_eq!(SuperBlock::from_bytes(&bad.to_bytes()), None);
    }

    #[test]
    fn dirent_round_trips() {
        let e = DirEntry::new(b"echo", 40, 1234);
        let back = DirEntry::from_bytes(&e.to_bytes());
        assert_eq!(back, e);
        assert_eq!(back.name(), b"echo");
        assert_eq!(back.extent(), (40, 43));
        assert!(back.in_use());
    }

    #[test]
    fn names_are_checked() {
        assert_eq!(validate_name(b""), Err(NameError::Empty));
        assert_eq!(validate_name(b"fifteen-chars-x"), Err(NameError::TooLong));
        assert_eq!(validate_name(b"fourteen-chars"), Ok(()));
        assert_eq!(validate_name(b"a/b"), Err(NameError::BadChar));
    }

    #[test]
    fn free_extent_is_first_fit() {
        let sb = SuperBlock::new(100, 16); // data_start = 2
        let mut used = [(10, 20), (2, 5), (20, 20)];
        assert_eq!(find_free_extent(&mut used, &sb, 5), Some(5));
        assert_eq!(find_free_extent(&mut used, &sb, 6), Some(20));
        assert_eq!(find_free_extent(&mut used, &sb, 80), Some(20));
        assert_eq!(find_free_extent(&mut used, &sb, 81), None);
        assert_eq!(find_free_extent(&mut [], &sb, 0), Some(2));
    }
}
