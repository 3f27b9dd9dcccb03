//! Host tests of the block cache against an in-memory disk that counts and
//! can fail requests.

use abi::fs::SECTOR;

use super::FsError;
use super::cache::{BLOCK_SECTORS, BlockCache};
use super::cache_memory::{Budget, TestMemory};
use super::sector_io::{CountingDisk, SectorIo};

/// A cache of up to `blocks` blocks with all the memory it wants.
pub(super) fn cache(disk: &CountingDisk, blocks: usize) -> BlockCache<&CountingDisk, TestMemory> {
    let budget = Budget {
        share: blocks,
        cap: blocks,
        margin: 0,
    };
    BlockCache::new(disk, budget, TestMemory::new(usize::MAX / 2))
}

fn sectors_of(byte: u8, n: usize) -> Vec<u8> {
    vec![byte; n * SECTOR]
}

/// Block `b`'s first sector number.
fn at(b: u64) -> u64 {
    b * BLOCK_SECTORS
}

#[test]
fn second_read_is_a_hit() {
    let disk = CountingDisk::new(8 * BLOCK_SECTORS);
    disk.mem.write_sectors(3, &sectors_of(9, 1)).unwrap();
    let c = cache(&disk, 4);
    let mut buf = vec![0; SECTOR];
    c.read_sectors(3, &mut buf).unwrap();
    assert_eq!(buf, sectors_of(9, 1));
    assert_eq!(disk.reads.get(), 1, "a miss reads the block once");
    for s in 0..BLOCK_SECTORS {
        c.read_sectors(s, &mut buf).unwrap();
    }
    assert_eq!(disk.reads.get(), 1, "the rest of the block is in memory");
    let st = c.stats();
    assert_eq!(
        (st.blocks, st.hits, st.misses),
        (1, BLOCK_SECTORS, 1),
        "one block taken, for the one block read"
    );
    // A read across a block boundary needs both blocks.
    let mut two = vec![0; 2 * SECTOR];
    c.read_sectors(at(1) - 1, &mut two).unwrap();
    assert_eq!(disk.reads.get(), 2);
    assert_eq!(c.stats().misses, 2);
}

#[test]
fn writes_wait_for_a_flush() {
    let disk = CountingDisk::new(8 * BLOCK_SECTORS);
    let c = cache(&disk, 4);
    c.write_sectors(5, &sectors_of(7, 2)).unwrap();
    assert_eq!(disk.writes.get(), 0);
    assert_eq!(disk.sector(5), sectors_of(0, 1), "not on the disk yet");
    let mut buf = vec![0; 2 * SECTOR];
    c.read_sectors(5, &mut buf).unwrap();
    assert_eq!(buf, sectors_of(7, 2), "reads see the cached write");
    c.flush().unwrap();
    assert_eq!(disk.writes.get(), 1);
    assert_eq!(disk.sector(5), sectors_of(7, 1));
    assert_eq!(disk.sector(6), sectors_of(7, 1));
    c.flush().unwrap();
    assert_eq!(disk.writes.get(), 1, "a clean cache writes nothing");
    assert_eq!(c.stats().write_backs, 1);
}

#[test]
fn a_whole_block_write_reads_nothing() {
    let disk = CountingDisk::new(8 * BLOCK_SECTORS);
    let c = cache(&disk, 4);
    c.write_sectors(at(2), &sectors_of(1, BLOCK_SECTORS as usize))
        .unwrap();
    assert_eq!(disk.reads.get(), 0);
    // A partial one must read the rest of the block first.
    disk.mem
        .write_sectors(at(3) + 7, &sectors_of(5, 1))
        .unwrap();
    c.write_sectors(at(3), &sectors_of(2, 1)).unwrap();
    assert_eq!(disk.reads.get(), 1);
    c.flush().unwrap();
    assert_eq!(disk.sector(at(3)), sectors_of(2, 1));
    assert_eq!(
        disk.sector(at(3) + 7),
        sectors_of(5, 1),
        "kept the old rest"
    );
}

#[test]
fn eviction_takes_the_least_recently_used() {
    let disk = CountingDisk::new(8 * BLOCK_SECTORS);
    let c = cache(&disk, 2);
    let mut buf = vec![0; SECTOR];
    c.read_sectors(at(0), &mut buf).unwrap(); // A
    c.read_sectors(at(1), &mut buf).unwrap(); // B
    c.read_sectors(at(0), &mut buf).unwrap(); // A again: B is now the oldest
    c.read_sectors(at(2), &mut buf).unwrap(); // C evicts B
    assert_eq!(disk.reads.get(), 3);
    c.read_sectors(at(0), &mut buf).unwrap();
    assert_eq!(disk.reads.get(), 3, "A stayed");
    c.read_sectors(at(1), &mut buf).unwrap();
    assert_eq!(disk.reads.get(), 4, "B was evicted");
}

#[test]
fn a_dirty_victim_is_written_back_first() {
    let disk = CountingDisk::new(8 * BLOCK_SECTORS);
    let c = cache(&disk, 2);
    c.write_sectors(at(0), &sectors_of(1, 1)).unwrap();
    c.write_sectors(at(1), &sectors_of(2, 1)).unwrap();
    assert_eq!(disk.writes.get(), 0);
    let mut buf = vec![0; SECTOR];
    c.read_sectors(at(2), &mut buf).unwrap();
    assert_eq!(disk.writes.get(), 1);
    assert_eq!(disk.sector(at(0)), sectors_of(1, 1), "the oldest went out");
    assert_eq!(c.stats().eviction_write_backs, 1);
    c.read_sectors(at(0), &mut buf).unwrap();
    assert_eq!(buf, sectors_of(1, 1), "and reads back from the disk");
    assert_eq!(
        disk.sector(at(1)),
        sectors_of(2, 1),
        "B written to make room"
    );
}

#[test]
fn flush_range_writes_only_that_range_in_order() {
    let disk = CountingDisk::new(8 * BLOCK_SECTORS);
    let c = cache(&disk, 4);
    for b in 0..4 {
        c.write_sectors(at(b), &sectors_of(b as u8 + 1, 1)).unwrap();
    }
    c.flush_range(at(1) + 3, BLOCK_SECTORS).unwrap(); // blocks 1 and 2
    assert_eq!(disk.writes.get(), 2);
    assert_eq!(disk.sector(at(0)), sectors_of(0, 1));
    assert_eq!(disk.sector(at(1)), sectors_of(2, 1));
    assert_eq!(disk.sector(at(2)), sectors_of(3, 1));
    assert_eq!(disk.sector(at(3)), sectors_of(0, 1));
    c.flush().unwrap();
    assert_eq!(disk.writes.get(), 4);
    assert_eq!(disk.sector(at(3)), sectors_of(4, 1));
}

#[test]
fn a_short_last_block_stays_inside_the_disk() {
    let disk = CountingDisk::new(BLOCK_SECTORS + 3);
    let c = cache(&disk, 2);
    c.write_sectors(at(1), &sectors_of(6, 3)).unwrap();
    assert_eq!(
        disk.reads.get(),
        0,
        "three sectors are the whole last block"
    );
    c.flush().unwrap();
    assert_eq!(disk.sector(at(1) + 2), sectors_of(6, 1));
    let mut buf = vec![0; 4 * SECTOR];
    assert_eq!(c.read_sectors(at(1), &mut buf), Err(FsError::Io));
    assert_eq!(c.write_sectors(u64::MAX, &buf[..SECTOR]), Err(FsError::Io));
    assert_eq!(c.read_sectors(0, &mut buf[..100]), Err(FsError::Io));
}

#[test]
fn a_failed_write_back_keeps_the_data() {
    let disk = CountingDisk::new(8 * BLOCK_SECTORS);
    let c = cache(&disk, 1);
    c.write_sectors(0, &sectors_of(3, 1)).unwrap();
    disk.failing.set(true);
    assert_eq!(c.flush(), Err(FsError::Io));
    let mut buf = vec![0; SECTOR];
    // Making room needs the write-back, which fails: the request fails.
    assert_eq!(c.read_sectors(at(1), &mut buf), Err(FsError::Io));
    disk.failing.set(false);
    c.read_sectors(0, &mut buf).unwrap();
    assert_eq!(buf, sectors_of(3, 1), "still cached, still dirty");
    c.flush().unwrap();
    assert_eq!(disk.sector(0), sectors_of(3, 1));
    // A failed fill leaves no stale block behind.
    disk.failing.set(true);
    assert_eq!(c.read_sectors(at(2), &mut buf), Err(FsError::Io));
    disk.failing.set(false);
    disk.mem.write_sectors(at(2), &sectors_of(8, 1)).unwrap();
    c.read_sectors(at(2), &mut buf).unwrap();
    assert_eq!(buf, sectors_of(8, 1));
}

#[test]
fn only_dirty_sectors_are_written_one_request_per_run_together() {
    let disk = CountingDisk::new(8 * BLOCK_SECTORS);
    disk.mem.write_sectors(0, &sectors_of(9, 8)).unwrap();
    let c = cache(&disk, 2);
    c.write_sectors(1, &sectors_of(1, 1)).unwrap();
    c.write_sectors(3, &sectors_of(3, 2)).unwrap();
    // The disk changes behind the cache's back: sectors the cache did not
    // dirty must not be written over.
    disk.mem.write_sectors(2, &sectors_of(7, 1)).unwrap();
    let (writes, groups) = (disk.writes.get(), disk.write_groups.get());
    c.flush().unwrap();
    assert_eq!(disk.writes.get() - writes, 2, "sectors 1 and 3..5");
    assert_eq!(
        disk.write_groups.get() - groups,
        1,
        "a block's runs go to the disk together"
    );
    assert_eq!(disk.sector(1), sectors_of(1, 1));
    assert_eq!(disk.sector(2), sectors_of(7, 1));
    assert_eq!(disk.sector(4), sectors_of(3, 1));
    assert_eq!(disk.sector(5), sectors_of(9, 1));
    assert_eq!(c.stats().write_backs, 1, "one block");
}
