//! Host tests of the block cache under the volume and under random
//! traffic: what reaches the disk, and when.

use abi::fs::{SECTOR, SuperBlock};

use super::FsError;
use super::cache::{BLOCK_SECTORS, BLOCK_SIZE, BlockCache};
use super::cache_memory::{Budget, TestMemory};
use super::cache_tests::cache;
use super::sector_io::{CountingDisk, SectorIo};
use super::volume::Volume;

fn sectors_of(byte: u8, n: usize) -> Vec<u8> {
    vec![byte; n * SECTOR]
}

/// Random reads and writes through a tiny cache match a model of the disk,
/// and after a flush the disk itself does; also while the cache's memory
/// comes and goes (growth, allocation failures, blocks given back).
#[test]
fn random_traffic_matches_a_model() {
    for changing_memory in [false, true] {
        let sectors = 5 * BLOCK_SECTORS + 5;
        let disk = CountingDisk::new(sectors);
        let mem = TestMemory::new(usize::MAX / 2);
        let budget = Budget {
            share: 1,
            cap: 3,
            margin: 8 * BLOCK_SIZE,
        };
        let c = BlockCache::new(&disk, budget, &mem);
        let mut model = vec![0u8; sectors as usize * SECTOR];
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = |m: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % m
        };
        for step in 0..4000 {
            if changing_memory && next(50) == 0 {
                mem.failing.set(next(3) == 0);
                mem.spare.set(next(12) as usize * BLOCK_SIZE);
            }
            if next(200) == 0 {
                c.flush().unwrap();
            }
            let s = next(sectors);
            let n = 1 + next((sectors - s).min(20));
            let range = s as usize * SECTOR..(s + n) as usize * SECTOR;
            if next(2) == 0 {
                let data: Vec<u8> = (0..range.len()).map(|i| (i + step) as u8).collect();
                c.write_sectors(s, &data).unwrap();
                model[range].copy_from_slice(&data);
            } else {
                let mut buf = vec![0; range.len()];
                c.read_sectors(s, &mut buf).unwrap();
                assert!(buf == model[range], "step {step}: read {s}+{n}");
            }
            assert!(c.stats().blocks <= 3, "never past the cap");
            assert_eq!(mem.out.get() as u64, c.stats().blocks, "no block lost");
        }
        c.flush().unwrap();
        assert!(*disk.mem.0.lock().unwrap() == model);
        let st = c.stats();
        assert!(st.eviction_write_backs > 0);
        assert_eq!(st.released > 0, changing_memory, "{st:?}");
    }
}

/// The volume works on a cache: its data reaches the disk at a flush, and a
/// mount of the bare disk afterwards sees all of it.
#[test]
fn a_volume_on_a_cache_persists_after_flush() {
    let disk = CountingDisk::new(400);
    disk.mem
        .write_sectors(0, &SuperBlock::new(400, 32).to_bytes())
        .unwrap();
    let c = cache(&disk, 2);
    {
        let mut v = Volume::mount(&c).unwrap();
        for i in 0..10u8 {
            let name = format!("f{i}");
            v.create(name.as_bytes(), 3000).unwrap();
            let f = v.open(name.as_bytes()).unwrap();
            assert_eq!(v.write_at(f, &[i; 3000], 0).unwrap(), 3000);
        }
    }
    c.flush().unwrap();
    let mut v = Volume::mount(&disk.mem).unwrap();
    for i in 0..10u8 {
        let f = v.open(format!("f{i}").as_bytes()).unwrap();
        let mut buf = [0u8; 3000];
        assert_eq!(v.read_at(f, &mut buf, 0).unwrap(), 3000);
        assert!(buf.iter().all(|&b| b == i), "file {i}");
    }
}

/// Creating a file and changing the directory reach the disk at once: a VM
/// that ends before any flush still has the directory and the new file's
/// zeros on the disk.
#[test]
fn the_directory_and_new_files_are_written_through() {
    let disk = CountingDisk::new(400);
    disk.mem
        .write_sectors(0, &SuperBlock::new(400, 32).to_bytes())
        .unwrap();
    // Old data where the new file will go.
    disk.mem.write_sectors(4, &sectors_of(0xee, 100)).unwrap();
    let c = cache(&disk, 8);
    let mut v = Volume::mount(&c).unwrap();
    v.create(b"fresh", 5000).unwrap();
    v.create(b"gone", 100).unwrap();
    v.remove(b"gone").unwrap();
    // No flush of the cache: mount the bare disk.
    let mut bare = Volume::mount(&disk.mem).unwrap();
    assert_eq!(bare.open(b"gone").err(), Some(FsError::NotFound));
    let f = bare.open(b"fresh").unwrap();
    let mut buf = [0xffu8; 5000];
    assert_eq!(bare.read_at(f, &mut buf, 0).unwrap(), 5000);
    assert!(buf.iter().all(|&b| b == 0));
}
