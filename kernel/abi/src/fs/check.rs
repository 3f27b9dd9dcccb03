//! Validation of a file-system image, shared by the VMM (before it boots a
//! disk) and the kernel (when it mounts one): the superblock against the disk,
//! then every directory entry: its flags, its name, its extent (inside the
//! disk, after the directory) and that no two extents overlap and no two
//! files share a name. Pure functions: no allocation, no I/O.

use core::fmt;

use super::{DIRENT_IN_USE, DirEntry, SECTOR, SuperBlock, validate_name};

/// Most directory entries a file system may have. The kernel keeps the whole
/// directory in memory (32 bytes an entry), so the limit keeps a mount within
/// the smallest guest's heap; the VMM creates images with
/// [`super::DEFAULT_DIR_ENTRIES`].
pub const DIR_ENTRIES_MAX: u64 = 4096;

/// What is wrong with a file-system image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FormatError {
    /// The disk is shorter than one sector.
    NoSuperblock,
    /// Sector 0 does not start with [`super::FS_MAGIC`].
    BadMagic,
    /// The superblock claims no directory entries.
    NoEntries,
    /// The superblock claims more than [`DIR_ENTRIES_MAX`] entries.
    TooManyEntries(u64),
    /// The directory does not lie between sector 1 and the first data
    /// sector, or the data start is past the end of the file system.
    BadLayout {
        /// The superblock's first directory sector.
        dir_start: u64,
        /// The superblock's first data sector.
        data_start: u64,
    },
    /// The file system is larger than the format allows (2^32 sectors).
    TooLarge {
        /// The sectors the superblock claims.
        total_sectors: u64,
    },
    /// The superblock claims more sectors than the disk has.
    LargerThanDisk {
        /// The sectors the superblock claims.
        total_sectors: u64,
        /// The sectors the disk has.
        disk_sectors: u64,
    },
    /// Directory entry `index` is bad.
    Entry {
        /// The entry's number in the directory.
        index: u64,
        /// Its name field as stored (for the message).
        name: [u8; 16],
        /// What is wrong with it.
        problem: EntryProblem,
    },
    /// The caller's scratch slice is shorter than the directory (a bug in
    /// the caller, not in the image).
    ScratchTooSmall,
}

/// What is wrong with one directory entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryProblem {
    /// Flags other than 0 (free) or [`DIRENT_IN_USE`].
    BadFlags(u32),
    /// A free entry that is not all zeros.
    DirtyFreeEntry,
    /// The name is empty, too long, has a bad byte, or junk after its NUL.
    BadName,
    /// The reserved word is not zero.
    Reserved(u32),
    /// The file's sectors `start..end` are not inside the data area.
    OutsideData {
        /// The file's first sector.
        start: u64,
        /// The sector after its last.
        end: u64,
    },
    /// The file's sectors overlap those of entry `other`.
    Overlaps {
        /// The number of the entry it overlaps.
        other: u64,
    },
    /// Entry `other` has the same name.
    DuplicateName {
        /// The number of the entry with the same name.
        other: u64,
    },
}

/// Parses sector 0 (`sector`, at least 40 bytes) of a disk of `disk_sectors`
/// sectors and checks the superblock: magic, entry count, layout, size.
/// Returns the superblock, or what is wrong.
pub fn check_superblock(sector: &[u8], disk_sectors: u64) -> Result<SuperBlock, FormatError> {
    if sector.len() < 40 || disk_sectors == 0 {
        return Err(FormatError::NoSuperblock);
    }
    let f = |i: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&sector[i * 8..i * 8 + 8]);
        u64::from_le_bytes(w)
    };
    let sb = SuperBlock {
        magic: f(0),
        total_sectors: f(1),
        dir_start: f(2),
        dir_entries: f(3),
        data_start: f(4),
    };
    if sb.magic != super::FS_MAGIC {
        return Err(FormatError::BadMagic);
    }
    if sb.dir_entries == 0 {
        return Err(FormatError::NoEntries);
    }
    if sb.dir_entries > DIR_ENTRIES_MAX {
        return Err(FormatError::TooManyEntries(sb.dir_entries));
    }
    let layout_ok = sb.dir_start >= 1
        && sb
            .dir_start
            .checked_add(sb.dir_sectors())
            .is_some_and(|dir_end| dir_end <= sb.data_start)
        && sb.data_start <= sb.total_sectors;
    if !layout_ok {
        return Err(FormatError::BadLayout {
            dir_start: sb.dir_start,
            data_start: sb.data_start,
        });
    }
    if sb.total_sectors > u64::from(u32::MAX) {
        return Err(FormatError::TooLarge {
            total_sectors: sb.total_sectors,
        });
    }
    if sb.total_sectors > disk_sectors {
        return Err(FormatError::LargerThanDisk {
            total_sectors: sb.total_sectors,
            disk_sectors,
        });
    }
    Ok(sb)
}

/// Checks one directory entry of a file system with superblock `sb`.
pub fn check_entry(sb: &SuperBlock, e: &DirEntry) -> Result<(), EntryProblem> {
    if !e.in_use() {
        return match e.flags {
            0 if *e == DirEntry::default() => Ok(()),
            0 => Err(EntryProblem::DirtyFreeEntry),
            flags => Err(EntryProblem::BadFlags(flags)),
        };
    }
    if e.flags != DIRENT_IN_USE {
        return Err(EntryProblem::BadFlags(e.flags));
    }
    let name = e.name();
    if validate_name(name).is_err() || e.name[name.len()..].iter().any(|&b| b != 0) {
        return Err(EntryProblem::BadName);
    }
    if e.reserved != 0 {
        return Err(EntryProblem::Reserved(e.reserved));
    }
    let (start, end) = e.extent();
    if start < sb.data_start || end > sb.total_sectors {
        return Err(EntryProblem::OutsideData { start, end });
    }
    Ok(())
}

/// Checks the directory table `entries` of a file system with superblock
/// `sb`: every entry ([`check_entry`]), then that no two files' sectors
/// overlap and no two files share a name. `scratch` must be at least as long
/// as `entries` (its contents are overwritten); a shorter one is
/// [`FormatError::ScratchTooSmall`]. Returns the first problem found.
pub fn check_directory(
    sb: &SuperBlock,
    entries: &[DirEntry],
    scratch: &mut [u32],
) -> Result<(), FormatError> {
    if scratch.len() < entries.len() || entries.len() > u32::MAX as usize {
        return Err(FormatError::ScratchTooSmall);
    }
    let bad = |index: usize, problem| FormatError::Entry {
        index: index as u64,
        name: entries[index].name,
        problem,
    };
    let mut used = 0;
    for (i, e) in entries.iter().enumerate() {
        check_entry(sb, e).map_err(|p| bad(i, p))?;
        if e.in_use() {
            scratch[used] = i as u32;
            used += 1;
        }
    }
    let files = &mut scratch[..used];
    // Extents: sorted by start, each must end before the next non-empty one starts.
    heapsort(files, |a, b| {
        (entries[a as usize].start, a) < (entries[b as usize].start, b)
    });
    let mut last: Option<(u64, u64)> = None; // (end, index) of the latest non-empty extent
    for &i in files.iter() {
        let (start, end) = entries[i as usize].extent();
        if start == end {
            continue;
        }
        if let Some((prev_end, prev)) = last
            && start < prev_end
        {
            return Err(bad(i as usize, EntryProblem::Overlaps { other: prev }));
        }
        last = Some((end, u64::from(i)));
    }
    // Names: sorted, no two equal.
    heapsort(files, |a, b| {
        (entries[a as usize].name, a) < (entries[b as usize].name, b)
    });
    for pair in files.windows(2) {
        if entries[pair[0] as usize].name == entries[pair[1] as usize].name {
            let other = u64::from(pair[0]);
            return Err(bad(pair[1] as usize, EntryProblem::DuplicateName { other }));
        }
    }
    Ok(())
}

/// Sorts `v` by `less` in place (heapsort: no allocation, O(n log n), and a
/// few hundred bytes of code where `sort_unstable` would add tens of KiB to
/// the kernel).
fn heapsort(v: &mut [u32], less: impl Fn(u32, u32) -> bool) {
    let sift_down = |v: &mut [u32], mut root: usize, end: usize| loop {
        let mut child = 2 * root + 1;
        if child >= end {
            return;
        }
        if child + 1 < end && less(v[child], v[child + 1]) {
            child += 1;
        }
        if !less(v[root], v[child]) {
            return;
        }
        v.swap(root, child);
        root = child;
    };
    for root in (0..v.len() / 2).rev() {
        sift_down(v, root, v.len());
    }
    for end in (1..v.len()).rev() {
        v.swap(0, end);
        sift_down(v, 0, end);
    }
}

/// Writes a name field as text: printable ASCII as is, other bytes escaped,
/// up to the first NUL.
struct Name<'a>(&'a [u8; 16]);

impl fmt::Display for Name<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let len = self.0.iter().position(|&b| b == 0).unwrap_or(16);
        for &b in &self.0[..len] {
            for c in core::ascii::escape_default(b) {
                write!(f, "{}", c as char)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const BYTES: u64 = SECTOR as u64;
        match *self {
            FormatError::NoSuperblock => write!(f, "too small for a superblock"),
            FormatError::BadMagic => {
                write!(
                    f,
                    "not a faultline file-system image (bad superblock magic)"
                )
            }
            FormatError::NoEntries => write!(f, "the superblock claims no directory entries"),
            FormatError::TooManyEntries(n) => write!(
                f,
                "the superblock claims {n} directory entries, more than the limit of {DIR_ENTRIES_MAX}"
            ),
            FormatError::BadLayout {
                dir_start,
                data_start,
            } => write!(
                f,
                "bad superblock layout (directory at sector {dir_start}, data at sector {data_start})"
            ),
            FormatError::TooLarge { total_sectors } => write!(
                f,
                "the superblock claims {total_sectors} sectors, more than the format allows"
            ),
            FormatError::LargerThanDisk {
                total_sectors,
                disk_sectors,
            } => write!(
                f,
                "truncated: the superblock claims {} bytes, the disk has {}",
                total_sectors * BYTES,
                disk_sectors * BYTES
            ),
            FormatError::Entry {
                index,
                ref name,
                problem,
            } => {
                write!(f, "directory entry {index}")?;
                // The name is worth showing once the flags and the name passed.
                let named = !matches!(
                    problem,
                    EntryProblem::BadFlags(_)
                        | EntryProblem::DirtyFreeEntry
                        | EntryProblem::BadName
                );
                if named {
                    write!(f, " (`{}`)", Name(name))?;
                }
                write!(f, ": ")?;
                match problem {
                    EntryProblem::BadFlags(flags) => write!(f, "bad flags {flags:#x}"),
                    EntryProblem::DirtyFreeEntry => write!(f, "a free entry that is not cleared"),
                    EntryProblem::BadName => write!(f, "bad file name"),
                    EntryProblem::Reserved(v) => write!(f, "reserved field is {v:#x}, not 0"),
                    EntryProblem::OutsideData { start, end } => {
                        write!(f, "sectors {start}..{end} lie outside the data area")
                    }
                    EntryProblem::Overlaps { other } => {
                        write!(f, "its sectors overlap those of entry {other}")
                    }
                    EntryProblem::DuplicateName { other } => {
                        write!(f, "same name as entry {other}")
                    }
                }
            }
            FormatError::ScratchTooSmall => write!(f, "internal error: scratch space too small"),
        }
    }
}
