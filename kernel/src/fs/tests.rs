//! Host tests of the volume logic against an in-memory disk.

use abi::fs::{FormatError, SECTOR, SuperBlock};

use super::FsError;
use super::sector_io::{MemDisk, SectorIo};
use super::volume::{MountError, Volume};

/// A freshly formatted disk of `sectors` with `dir_entries` directory entries.
fn format(sectors: u64, dir_entries: u64) -> MemDisk {
    let disk = MemDisk::new(sectors);
    let sb = SuperBlock::new(sectors, dir_entries);
    disk.write_sectors(0, &sb.to_bytes()).unwrap();
    disk
}

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

#[test]
fn rejects_unformatted_disk() {
    assert_eq!(
        Volume::mount(MemDisk::new(64)).err(),
        Some(MountError::Format(FormatError::BadMagic))
    );
    // A superblock claiming more sectors than the disk has.
    let disk = MemDisk::new(64);
    disk.write_sectors(0, &SuperBlock::new(128, 16).to_bytes())
        .unwrap();
    assert!(matches!(
        Volume::mount(disk).err(),
        Some(MountError::Format(FormatError::LargerThanDisk { .. }))
    ));
}

#[test]
fn new_file_reads_zeros_even_over_old_data() {
    let disk = format(200, 16);
    // Garbage where the data will go.
    disk.write_sectors(2, &vec![0xaa; 100 * SECTOR]).unwrap();
    let mut v = Volume::mount(&disk).unwrap();
    v.create(b"zeros", 5000).unwrap();
    let f = v.open(b"zeros").unwrap();
    let mut buf = vec![0xff; 6000];
    assert_eq!(v.read_at(f, &mut buf, 0).unwrap(), 5000);
    assert!(buf[..5000].iter().all(|&b| b == 0));
    assert_eq!(v.read_at(f, &mut buf, 5000).unwrap(), 0);
    assert_eq!(v.read_at(f, &mut buf, 1 << 40).unwrap(), 0);
}

#[test]
fn partial_and_multi_sector_io_matches_a_model() {
    let disk = format(400, 16);
    let mut v = Volume::mount(&disk).unwrap();
    let size = 10 * SECTOR + 123;
    v.create(b"data", size as u32).unwrap();
    v.create(b"neighbour", 1024).unwrap();
    let f = v.open(b"data").unwrap();
    let g = v.open(b"neighbour").unwrap();
    assert_eq!(v.write_at(g, &[7; 1024], 0).unwrap(), 1024);

    let mut model = vec![0u8; size];
    let cases = [
        (0, 1),
        (1, 510),
        (511, 2),
        (512, 512),
        (100, 3000),
        (1000, 4000),
        (5000, 1000),
        (size - 5, 100),
    ];
    for (i, &(off, len)) in cases.iter().enumerate() {
        let data = pattern(len, i as u8);
        let n = v.write_at(f, &data, off as u64).unwrap();
        let expect = len.min(size - off);
        assert_eq!(n, expect, "write at {off}+{len}");
        model[off..off + expect].copy_from_slice(&data[..expect]);
        let mut whole = vec![0u8; size];
        assert_eq!(v.read_at(f, &mut whole, 0).unwrap(), size);
        assert_eq!(whole, model, "after write at {off}+{len}");
    }
    for &(off, len) in &cases {
        let mut buf = vec![0u8; len];
        let n = v.read_at(f, &mut buf, off as u64).unwrap();
        assert_eq!(&buf[..n], &model[off..off + n]);
    }
    // Writing past the end writes nothing; the neighbour is untouched.
    assert_eq!(v.write_at(f, b"x", size as u64).unwrap(), 0);
    let mut nb = vec![0u8; 1024];
    v.read_at(g, &mut nb, 0).unwrap();
    assert!(nb.iter().all(|&b| b == 7));
}

#[test]
fn names_and_directory_limits() {
    let disk = format(100, 16);
    let mut v = Volume::mount(&disk).unwrap();
    assert_eq!(v.create(b"", 1), Err(FsError::BadName));
    assert_eq!(v.create(b"fifteen-chars-x", 1), Err(FsError::BadName));
    assert_eq!(v.create(b"a b", 1), Err(FsError::BadName));
    assert_eq!(v.open(b"missing").err(), Some(FsError::NotFound));
    assert_eq!(v.remove(b"missing"), Err(FsError::NotFound));
    for i in 0..16 {
        v.create(format!("f{i}").as_bytes(), 0).unwrap();
    }
    assert_eq!(v.create(b"f3", 0), Err(FsError::Exists));
    assert_eq!(v.create(b"one-more", 0), Err(FsError::DirFull));
    let names: Vec<Vec<u8>> = (0..)
        .map_while(|i| v.entry(i))
        .map(|(n, len, _)| n[..len].to_vec())
        .collect();
    assert_eq!(names.len(), 16);
    assert_eq!(names[10], b"f10");
}

#[test]
fn open_finds_exactly_the_name_asked_for() {
    let disk = format(100, 16);
    let mut v = Volume::mount(&disk).unwrap();
    for (name, size) in [
        (&b"ab"[..], 2),
        (b"a", 1),
        (b"abc", 3),
        (b"fourteen-chars", 14),
    ] {
        v.create(name, size).unwrap();
    }
    for (name, size) in [
        (&b"a"[..], 1),
        (b"ab", 2),
        (b"abc", 3),
        (b"fourteen-chars", 14),
    ] {
        let id = v.open(name).unwrap();
        assert_eq!(v.inode(id).unwrap().size, size, "{name:?}");
        v.close(id);
    }
    for missing in [&b"abcd"[..], b"b", b"fourteen-chart", b"fourteen-char"] {
        assert_eq!(
            v.open(missing).err(),
            Some(FsError::NotFound),
            "{missing:?}"
        );
    }
    v.remove(b"ab").unwrap();
    assert_eq!(v.open(b"ab").err(), Some(FsError::NotFound));
    assert_eq!(v.open(b"abc").map(|id| v.inode(id).unwrap().size), Ok(3));
}

#[test]
fn space_runs_out_and_comes_back() {
    let disk = format(2 + 20, 16); // data sectors 2..22
    let mut v = Volume::mount(&disk).unwrap();
    v.create(b"a", 10 * 512).unwrap();
    v.create(b"b", 10 * 512).unwrap();
    assert_eq!(v.create(b"c", 1), Err(FsError::NoSpace));
    assert_eq!(v.create(b"c", 0), Ok(()));
    v.remove(b"a").unwrap();
    v.create(b"d", 10 * 512).unwrap();
}

#[test]
fn removed_open_file_keeps_its_data_until_last_close() {
    let disk = format(2 + 8, 16); // 8 data sectors
    let mut v = Volume::mount(&disk).unwrap();
    v.create(b"old", 4 * 512).unwrap();
    let f = v.open(b"old").unwrap();
    let f2 = v.open(b"old").unwrap();
    assert_eq!(f, f2, "same name, same inode");
    v.write_at(f, &[1; 2048], 0).unwrap();
    v.remove(b"old").unwrap();
    assert!(v.inode(f).unwrap().removed());
    assert_eq!(v.open(b"old").err(), Some(FsError::NotFound));
    // The name is free again; the new file gets other sectors.
    v.create(b"old", 4 * 512).unwrap();
    assert_eq!(v.create(b"more", 512), Err(FsError::NoSpace));
    let g = v.open(b"old").unwrap();
    assert_ne!(g, f);
    v.write_at(g, &[2; 2048], 0).unwrap();
    let mut buf = [0u8; 2048];
    v.read_at(f, &mut buf, 0).unwrap();
    assert!(buf.iter().all(|&b| b == 1));
    v.close(f);
    assert_eq!(
        v.create(b"more", 512),
        Err(FsError::NoSpace),
        "one File still open"
    );
    v.close(f2);
    assert!(v.inode(f).is_none());
    v.create(b"more", 4 * 512).unwrap();
    v.read_at(g, &mut buf, 0).unwrap();
    assert!(buf.iter().all(|&b| b == 2));
}

#[test]
fn deny_write_counts_per_file() {
    let disk = format(100, 16);
    let mut v = Volume::mount(&disk).unwrap();
    v.create(b"exe", 100).unwrap();
    let f = v.open(b"exe").unwrap();
    v.deny_write(f);
    v.deny_write(f);
    assert_eq!(v.write_at(f, b"hi", 0).unwrap(), 0);
    v.allow_write(f);
    assert_eq!(v.write_at(f, b"hi", 0).unwrap(), 0);
    v.allow_write(f);
    assert_eq!(v.write_at(f, b"hi", 0).unwrap(), 2);
}

#[test]
fn directory_persists_across_mounts() {
    let disk = format(300, 40);
    {
        let mut v = Volume::mount(&disk).unwrap();
        for i in 0..40 {
            v.create(format!("file{i}").as_bytes(), 100 + i).unwrap();
        }
        v.remove(b"file17").unwrap();
        let f = v.open(b"file33").unwrap();
        v.write_at(f, b"persisted", 50).unwrap();
    }
    let mut v = Volume::mount(&disk).unwrap();
    assert_eq!(v.open(b"file17").err(), Some(FsError::NotFound));
    let f = v.open(b"file33").unwrap();
    assert_eq!(v.inode(f).unwrap().size, 133);
    let mut buf = [0u8; 9];
    v.read_at(f, &mut buf, 50).unwrap();
    assert_eq!(&buf, b"persisted");
    assert_eq!((0..).map_while(|i| v.entry(i)).count(), 39);
}
