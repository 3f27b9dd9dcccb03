//! Host unit tests of the image checks: a valid image passes; each kind of
//! bad superblock and bad directory entry is refused with the right error.

extern crate std;

use std::format;
use std::string::ToString;
use std::vec;
use std::vec::Vec;

use super::*;
use crate::fs::{DEFAULT_DIR_ENTRIES, FS_MAGIC};

const DISK: u64 = 2048; // sectors

fn sb() -> SuperBlock {
    SuperBlock::new(DISK, DEFAULT_DIR_ENTRIES)
}

fn dir(files: &[DirEntry]) -> Vec<DirEntry> {
    let mut d = vec![DirEntry::default(); DEFAULT_DIR_ENTRIES as usize];
    d[..files.len()].copy_from_slice(files);
    d
}

fn check(entries: &[DirEntry]) -> Result<(), FormatError> {
    let mut scratch = vec![0u32; entries.len()];
    check_directory(&sb(), entries, &mut scratch)
}

fn problem(entries: &[DirEntry]) -> (u64, EntryProblem) {
    match check(entries) {
        Err(FormatError::Entry { index, problem, .. }) => (index, problem),
        other => panic!("expected an entry error, got {other:?}"),
    }
}

#[test]
fn a_valid_image_passes() {
    let s = sb();
    assert_eq!(check_superblock(&s.to_bytes(), DISK), Ok(s));
    assert_eq!(check_superblock(&s.to_bytes(), DISK + 100), Ok(s));
    let d = dir(&[
        DirEntry::new(b"echo", 17, 5000),
        DirEntry::new(b"empty", 17, 0),
        DirEntry::new(b"fourteen-chars", 27, 512),
        DirEntry::new(b"last", 2047, 1),
        DirEntry::new(b"empty-at-end", 2048, 0),
    ]);
    assert_eq!(check(&d), Ok(()));
}

#[test]
fn bad_superblocks_are_refused() {
    let good = sb().to_bytes();
    assert_eq!(
        check_superblock(&good[..39], DISK),
        Err(FormatError::NoSuperblock)
    );
    assert_eq!(check_superblock(&good, 0), Err(FormatError::NoSuperblock));
    assert_eq!(
        check_superblock(&[0; 512], DISK),
        Err(FormatError::BadMagic)
    );
    let with = |f: &dyn Fn(&mut SuperBlock)| {
        let mut s = sb();
        f(&mut s);
        check_superblock(&s.to_bytes(), DISK)
    };
    assert_eq!(with(&|s| s.dir_entries = 0), Err(FormatError::NoEntries));
    assert_eq!(
        with(&|s| {
            s.dir_entries = 1 << 16;
            s.data_start = 1 + 4096;
        }),
        Err(FormatError::TooManyEntries(1 << 16))
    );
    assert_eq!(
        with(&|s| s.dir_entries = DIR_ENTRIES_MAX + 1),
        Err(FormatError::TooManyEntries(DIR_ENTRIES_MAX + 1))
    );
    assert!(matches!(
        with(&|s| s.dir_start = 0),
        Err(FormatError::BadLayout { .. })
    ));
    assert!(matches!(
        with(&|s| s.dir_start = u64::MAX),
        Err(FormatError::BadLayout { .. })
    ));
    // The directory runs into the data area.
    assert!(matches!(
        with(&|s| s.data_start = 16),
        Err(FormatError::BadLayout { .. })
    ));
    assert!(matches!(
        with(&|s| s.data_start = DISK + 1),
        Err(FormatError::BadLayout { .. })
    ));
    assert_eq!(
        with(&|s| s.total_sectors = DISK + 1),
        Err(FormatError::LargerThanDisk {
            total_sectors: DISK + 1,
            disk_sectors: DISK
        })
    );
    let mut huge = sb();
    huge.total_sectors = 1 << 33;
    assert_eq!(
        check_superblock(&huge.to_bytes(), u64::MAX),
        Err(FormatError::TooLarge {
            total_sectors: 1 << 33
        })
    );
    assert_eq!(SuperBlock::from_bytes(&huge.to_bytes()), None);
    let mut magic = sb();
    magic.magic = FS_MAGIC + 1;
    assert_eq!(
        check_superblock(&magic.to_bytes(), DISK),
        Err(FormatError::BadMagic)
    );
}

#[test]
fn garbage_directories_are_refused() {
    // Pseudo-random bytes as a directory table: refused, never accepted.
    let mut x = 0x1234_5678_9abc_def0u64;
    for _ in 0..50 {
        let mut bytes = vec![0u8; DEFAULT_DIR_ENTRIES as usize * 32];
        for b in bytes.iter_mut() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *b = x as u8;
        }
        let d: Vec<DirEntry> = bytes.chunks_exact(32).map(DirEntry::from_bytes).collect();
        assert!(check(&d).is_err());
    }
}

#[test]
fn bad_entries_are_refused() {
    let ok = DirEntry::new(b"ok", 17, 100);
    let mut flags = ok;
    flags.flags = 3;
    assert_eq!(problem(&dir(&[flags])), (0, EntryProblem::BadFlags(3)));
    let dirty = DirEntry {
        size: 7,
        ..Default::default()
    };
    assert_eq!(
        problem(&dir(&[ok, dirty])),
        (1, EntryProblem::DirtyFreeEntry)
    );
    let free_flags = DirEntry {
        flags: 0x80,
        ..Default::default()
    };
    assert_eq!(
        problem(&dir(&[free_flags])),
        (0, EntryProblem::BadFlags(0x80))
    );
    for name in [&b""[..], b"a b", b"a/b", b"fifteen-chars-x"] {
        let mut e = ok;
        e.name = [0; 16];
        e.name[..name.len()].copy_from_slice(name);
        assert_eq!(problem(&dir(&[e])), (0, EntryProblem::BadName), "{name:?}");
    }
    let mut junk = ok;
    junk.name[5] = b'x'; // after the NUL that ends "ok"
    assert_eq!(problem(&dir(&[junk])), (0, EntryProblem::BadName));
    let mut reserved = ok;
    reserved.reserved = 9;
    assert_eq!(problem(&dir(&[reserved])), (0, EntryProblem::Reserved(9)));
    let before = DirEntry::new(b"before", 16, 512);
    assert_eq!(
        problem(&dir(&[before])),
        (0, EntryProblem::OutsideData { start: 16, end: 17 })
    );
    let past = DirEntry::new(b"past", 2047, 513);
    assert_eq!(
        problem(&dir(&[ok, past])),
        (
            1,
            EntryProblem::OutsideData {
                start: 2047,
                end: 2049
            }
        )
    );
    let far = DirEntry::new(b"far", u32::MAX, u32::MAX);
    assert!(matches!(
        problem(&dir(&[far])).1,
        EntryProblem::OutsideData { .. }
    ));
}

#[test]
fn overlaps_and_duplicates_are_refused() {
    let a = DirEntry::new(b"a", 100, 1024); // 100..102
    let b = DirEntry::new(b"b", 101, 1); // 101..102
    assert_eq!(
        problem(&dir(&[a, b])),
        (1, EntryProblem::Overlaps { other: 0 })
    );
    // Order in the table does not matter; the later-starting one is named.
    assert_eq!(
        problem(&dir(&[b, a])),
        (0, EntryProblem::Overlaps { other: 1 })
    );
    // A file inside a larger one, with a disjoint one between in the table.
    let big = DirEntry::new(b"big", 200, 512 * 50);
    let other = DirEntry::new(b"other", 300, 10);
    let inner = DirEntry::new(b"inner", 210, 10);
    assert_eq!(
        problem(&dir(&[big, other, inner])),
        (2, EntryProblem::Overlaps { other: 0 })
    );
    // Adjacent extents and empty files anywhere are fine.
    let next = DirEntry::new(b"next", 102, 512);
    let empty = DirEntry::new(b"empty", 101, 0);
    assert_eq!(check(&dir(&[a, next, empty])), Ok(()));
    let twin = DirEntry::new(b"a", 500, 1);
    assert_eq!(
        problem(&dir(&[a, next, twin])),
        (2, EntryProblem::DuplicateName { other: 0 })
    );
}

#[test]
fn scratch_must_cover_the_directory() {
    let d = dir(&[]);
    let mut short = vec![0u32; d.len() - 1];
    assert_eq!(
        check_directory(&sb(), &d, &mut short),
        Err(FormatError::ScratchTooSmall)
    );
}

#[test]
fn errors_read_well() {
    let a = DirEntry::new(b"a", 100, 1024);
    let b = DirEntry::new(b"b\x01", 101, 1);
    let mut scratch = vec![0u32; 256];
    let mut d = dir(&[a, DirEntry::new(b"b", 101, 1)]);
    let e = check_directory(&sb(), &d, &mut scratch).unwrap_err();
    assert_eq!(
        e.to_string(),
        "directory entry 1 (`b`): its sectors overlap those of entry 0"
    );
    d[1] = b;
    d[1].flags = 5;
    let e = check_directory(&sb(), &d, &mut scratch).unwrap_err();
    assert_eq!(e.to_string(), "directory entry 1: bad flags 0x5");
    d[1].flags = 1;
    d[1].start = 2;
    d[1].reserved = 1;
    let e = check_directory(&sb(), &d, &mut scratch).unwrap_err();
    assert_eq!(
        e.to_string(),
        "directory entry 1 (`b\\x01`): reserved field is 0x1, not 0"
    );
    let mut s = sb();
    s.total_sectors = DISK * 2;
    let e = check_superblock(&s.to_bytes(), DISK).unwrap_err();
    assert_eq!(
        format!("{e}"),
        "truncated: the superblock claims 2097152 bytes, the disk has 1048576"
    );
    assert!(
        FormatError::TooManyEntries(65536)
            .to_string()
            .contains("65536")
    );
}

#[test]
fn heapsort_sorts() {
    let mut x = 12345u32;
    for len in [0usize, 1, 2, 3, 10, 100, 1000] {
        let mut v: Vec<u32> = (0..len)
            .map(|_| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                x >> 16
            })
            .collect();
        let mut want = v.clone();
        want.sort();
        heapsort(&mut v, |a, b| a < b);
        assert_eq!(v, want);
    }
}
