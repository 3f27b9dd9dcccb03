//! Host tests of `Volume::mount` against bad images on an in-memory disk:
//! each is refused with the checks' error (never a panic), and a good image
//! mounted afterwards works (a file round trip).

use abi::fs::{DirEntry, EntryProblem, FormatError, SECTOR, SuperBlock};

use super::FsError;
use super::sector_io::{MemDisk, SectorIo};
use super::volume::{MountError, Volume};

const SECTORS: u64 = 400;

/// A formatted disk whose directory holds `files` in its first slots.
fn image(files: &[DirEntry]) -> MemDisk {
    let disk = MemDisk::new(SECTORS);
    let sb = SuperBlock::new(SECTORS, 32);
    disk.write_sectors(0, &sb.to_bytes()).unwrap();
    let mut dir = vec![0u8; 2 * SECTOR];
    for (i, e) in files.iter().enumerate() {
        dir[i * 32..i * 32 + 32].copy_from_slice(&e.to_bytes());
    }
    disk.write_sectors(sb.dir_start, &dir).unwrap();
    disk
}

fn entry_problem(disk: MemDisk) -> (u64, EntryProblem) {
    match Volume::mount(disk).err() {
        Some(MountError::Format(FormatError::Entry { index, problem, .. })) => (index, problem),
        other => panic!("expected a bad entry, got {other:?}"),
    }
}

/// A good image still mounts and keeps a file.
fn still_works() {
    let disk = image(&[DirEntry::new(b"old", 3, 10)]);
    let mut v = Volume::mount(&disk).unwrap();
    v.create(b"new", 700).unwrap();
    let f = v.open(b"new").unwrap();
    assert_eq!(v.write_at(f, &[5; 700], 0).unwrap(), 700);
    let mut back = [0u8; 700];
    assert_eq!(v.read_at(f, &mut back, 0).unwrap(), 700);
    assert_eq!(back, [5; 700]);
}

#[test]
fn garbage_directory_is_refused() {
    let disk = image(&[]);
    let garbage: Vec<u8> = (0..2 * SECTOR).map(|i| (i * 37 + 11) as u8).collect();
    disk.write_sectors(1, &garbage).unwrap();
    assert!(matches!(
        Volume::mount(disk).err(),
        Some(MountError::Format(FormatError::Entry { .. }))
    ));
    still_works();
}

#[test]
fn a_huge_directory_claim_is_refused_before_allocating() {
    let disk = MemDisk::new(8192);
    let mut sb = SuperBlock::new(8192, 1 << 16);
    disk.write_sectors(0, &sb.to_bytes()).unwrap();
    assert_eq!(
        Volume::mount(&disk).err(),
        Some(MountError::Format(FormatError::TooManyEntries(1 << 16)))
    );
    sb.dir_entries = u64::MAX;
    disk.write_sectors(0, &sb.to_bytes()).unwrap();
    assert!(matches!(
        Volume::mount(&disk).err(),
        Some(MountError::Format(FormatError::TooManyEntries(_)))
    ));
    still_works();
}

#[test]
fn bad_entries_are_refused() {
    let a = DirEntry::new(b"a", 10, 2048); // sectors 10..14
    let over = DirEntry::new(b"over", 13, 10);
    assert_eq!(
        entry_problem(image(&[a, over])),
        (1, EntryProblem::Overlaps { other: 0 })
    );
    let past = DirEntry::new(b"past", SECTORS as u32 - 1, 1024);
    assert!(matches!(
        entry_problem(image(&[past])),
        (0, EntryProblem::OutsideData { .. })
    ));
    let into_dir = DirEntry::new(b"dir", 1, 10);
    assert!(matches!(
        entry_problem(image(&[into_dir])),
        (0, EntryProblem::OutsideData { .. })
    ));
    let mut name = DirEntry::new(b"x", 20, 1);
    name.name[0] = b'/';
    assert_eq!(entry_problem(image(&[name])), (0, EntryProblem::BadName));
    let mut flags = a;
    flags.flags = 0xff;
    assert_eq!(
        entry_problem(image(&[flags])),
        (0, EntryProblem::BadFlags(0xff))
    );
    let twin = DirEntry::new(b"a", 30, 1);
    assert_eq!(
        entry_problem(image(&[a, twin])),
        (1, EntryProblem::DuplicateName { other: 0 })
    );
    still_works();
}

/// A disk whose reads fail from sector `from` on.
struct Failing(MemDisk, u64);

impl SectorIo for Failing {
    fn sectors(&self) -> u64 {
        self.0.sectors()
    }

    fn read_sectors(&self, sector: u64, buf: &mut [u8]) -> Result<(), FsError> {
        if sector >= self.1 {
            return Err(FsError::Io);
        }
        self.0.read_sectors(sector, buf)
    }

    fn write_sectors(&self, sector: u64, buf: &[u8]) -> Result<(), FsError> {
        self.0.write_sectors(sector, buf)
    }
}

#[test]
fn disk_errors_are_reported() {
    assert_eq!(
        Volume::mount(Failing(image(&[]), 0)).err(),
        Some(MountError::Io)
    );
    assert_eq!(
        Volume::mount(Failing(image(&[]), 1)).err(),
        Some(MountError::Io)
    );
    assert!(Volume::mount(Failing(image(&[]), 3)).is_ok());
    still_works();
}

#[test]
fn a_directory_larger_than_one_read_mounts() {
    // 1000 entries: 63 directory sectors, read in two requests.
    let disk = MemDisk::new(2000);
    let sb = SuperBlock::new(2000, 1000);
    disk.write_sectors(0, &sb.to_bytes()).unwrap();
    let mut sector = [0u8; SECTOR];
    sector[(999 % 16) * 32..][..32].copy_from_slice(&DirEntry::new(b"last", 100, 5).to_bytes());
    disk.write_sectors(sb.dir_start + 999 / 16, &sector)
        .unwrap();
    let mut v = Volume::mount(&disk).unwrap();
    assert_eq!(v.entry(0).map(|(_, len, size)| (len, size)), Some((4, 5)));
    assert!(v.open(b"last").is_ok());
    // The same entry in a slot past the table's end would be ignored, and
    // junk after the last entry in its sector is not part of the table.
    let mut tail = [0u8; SECTOR];
    tail[(999 % 16) * 32..][..32].copy_from_slice(&DirEntry::new(b"last", 100, 5).to_bytes());
    tail[(999 % 16 + 1) * 32..].fill(0xee);
    disk.write_sectors(sb.dir_start + 999 / 16, &tail).unwrap();
    assert!(Volume::mount(&disk).is_ok());
}
