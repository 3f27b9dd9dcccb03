//! Host tests of the block cache's memory: growth on demand, the cap, the
//! margin above the share, allocation failure while growing, and giving
//! blocks back when memory is short.

use abi::fs::SECTOR;

use super::cache::{BLOCK_SECTORS, BLOCK_SIZE, BlockCache};
use super::cache_memory::{Budget, TestMemory};
use super::sector_io::{CountingDisk, SectorIo};

/// Bytes of `n` blocks.
fn blocks(n: usize) -> usize {
    n * BLOCK_SIZE
}

fn sectors_of(byte: u8, n: usize) -> Vec<u8> {
    vec![byte; n * SECTOR]
}

/// Reads the first sector of block `b` through `c`.
fn touch<M: super::cache_memory::BlockSource>(c: &BlockCache<&CountingDisk, M>, b: u64) -> Vec<u8> {
    let mut buf = vec![0; SECTOR];
    c.read_sectors(b * BLOCK_SECTORS, &mut buf).unwrap();
    buf
}

#[test]
fn the_cache_grows_on_demand_up_to_its_cap() {
    let disk = CountingDisk::new(16 * BLOCK_SECTORS);
    let mem = TestMemory::new(blocks(100));
    let budget = Budget {
        share: 2,
        cap: 4,
        margin: 0,
    };
    let c = BlockCache::new(&disk, budget, &mem);
    assert_eq!((c.stats().blocks, mem.out.get()), (0, 0), "empty at first");
    for b in 0..4 {
        touch(&c, b);
        assert_eq!(c.stats().blocks, b + 1, "a block per miss");
    }
    assert_eq!(mem.out.get(), 4);
    for b in 0..4 {
        touch(&c, b);
    }
    assert_eq!(disk.reads.get(), 4, "all four stayed");
    // At the cap a miss evicts the least recently used (block 0).
    touch(&c, 4);
    assert_eq!((c.stats().blocks, mem.out.get()), (4, 4));
    touch(&c, 0);
    assert_eq!(disk.reads.get(), 6, "block 0 had been evicted");
    assert_eq!(c.stats().released, 0);
}

#[test]
fn above_its_share_the_cache_needs_the_margin_free() {
    let disk = CountingDisk::new(16 * BLOCK_SECTORS);
    let mem = TestMemory::new(blocks(12));
    let budget = Budget {
        share: 2,
        cap: 8,
        margin: blocks(10),
    };
    let c = BlockCache::new(&disk, budget, &mem);
    touch(&c, 0);
    touch(&c, 1);
    assert_eq!(c.stats().blocks, 2, "the share needs only a block free");
    // 10 blocks free: a third block would leave less than the margin.
    touch(&c, 2);
    assert_eq!(c.stats().blocks, 2, "no growth past the share");
    touch(&c, 0);
    assert_eq!(disk.reads.get(), 4, "block 2 evicted block 0");
    mem.spare.set(blocks(20));
    touch(&c, 3);
    assert_eq!(c.stats().blocks, 3, "grows again with memory to spare");
    // With too little for even one block, the share cannot grow either.
    let tight = TestMemory::new(BLOCK_SIZE - 1);
    let c = BlockCache::new(&disk, budget, &tight);
    touch(&c, 0);
    assert_eq!(c.stats().blocks, 0);
}

#[test]
fn allocation_failure_while_growing_evicts_or_goes_to_the_disk() {
    let disk = CountingDisk::new(16 * BLOCK_SECTORS);
    for b in 0..8u8 {
        disk.mem
            .write_sectors(b as u64 * BLOCK_SECTORS, &sectors_of(b + 1, 1))
            .unwrap();
    }
    let mem = TestMemory::new(blocks(100));
    let budget = Budget {
        share: 8,
        cap: 8,
        margin: 0,
    };
    // No memory from the start: every request goes to the disk, uncached.
    mem.failing.set(true);
    let c = BlockCache::new(&disk, budget, &mem);
    assert_eq!(touch(&c, 1), sectors_of(2, 1));
    c.write_sectors(5, &sectors_of(9, 1)).unwrap();
    assert_eq!(disk.sector(5), sectors_of(9, 1), "written straight through");
    assert_eq!(touch(&c, 1), sectors_of(2, 1));
    assert_eq!((disk.reads.get(), disk.writes.get()), (2, 1));
    assert_eq!((c.stats().blocks, mem.out.get()), (0, 0));
    c.flush().unwrap();
    // Memory comes: the cache grows; it goes again: the cache evicts.
    mem.failing.set(false);
    c.write_sectors(BLOCK_SECTORS, &sectors_of(7, 1)).unwrap(); // block 1
    touch(&c, 2);
    assert_eq!(c.stats().blocks, 2);
    mem.failing.set(true);
    assert_eq!(touch(&c, 3), sectors_of(4, 1));
    assert_eq!(c.stats().blocks, 2, "no growth without memory");
    assert_eq!(c.stats().eviction_write_backs, 1, "dirty block 1 made room");
    assert_eq!(disk.sector(BLOCK_SECTORS), sectors_of(7, 1));
    let reads = disk.reads.get();
    assert_eq!(touch(&c, 3), sectors_of(4, 1));
    assert_eq!(disk.reads.get(), reads, "block 3 is cached");
    assert_eq!(mem.out.get(), 2);
}

#[test]
fn the_cache_gives_blocks_above_its_share_back_when_memory_is_short() {
    let disk = CountingDisk::new(16 * BLOCK_SECTORS);
    let mem = TestMemory::new(blocks(100));
    let budget = Budget {
        share: 2,
        cap: 8,
        margin: blocks(50),
    };
    let c = BlockCache::new(&disk, budget, &mem);
    for b in 0..6u8 {
        c.write_sectors(b as u64 * BLOCK_SECTORS, &sectors_of(b + 1, 1))
            .unwrap();
    }
    assert_eq!(c.stats().blocks, 6);
    // Others take kernel memory: less than the margin is left.
    mem.spare.set(blocks(30));
    c.flush().unwrap();
    let st = c.stats();
    assert_eq!((st.blocks, st.released), (2, 4), "back to the share");
    assert_eq!((mem.out.get(), mem.spare.get()), (2, blocks(34)));
    for b in 0..6u8 {
        assert_eq!(disk.sector(b as u64 * BLOCK_SECTORS), sectors_of(b + 1, 1));
    }
    // Any request gives back too, even a hit, writing dirty blocks back
    // first.
    mem.spare.set(blocks(100));
    for b in 6..10u8 {
        c.write_sectors(b as u64 * BLOCK_SECTORS, &sectors_of(b + 1, 1))
            .unwrap();
    }
    assert_eq!(c.stats().blocks, 6);
    mem.spare.set(blocks(40));
    let reads = disk.reads.get();
    touch(&c, 9);
    assert_eq!((c.stats().blocks, disk.reads.get()), (2, reads));
    for b in 6..10u8 {
        assert_eq!(
            touch(&c, b as u64),
            sectors_of(b + 1, 1),
            "block {b} survived its release"
        );
    }
    // A block that cannot be written back is kept (and so is its data);
    // the clean ones still go.
    mem.spare.set(blocks(100));
    for b in 0..6 {
        c.write_sectors(b * BLOCK_SECTORS + 1, &sectors_of(0xaa, 1))
            .unwrap();
    }
    disk.failing.set(true);
    mem.spare.set(blocks(10));
    assert!(c.flush().is_err());
    assert_eq!(c.stats().blocks, 6, "the two clean blocks given back");
    disk.failing.set(false);
    c.flush().unwrap();
    assert_eq!(c.stats().blocks, 2);
    for b in 0..6 {
        assert_eq!(disk.sector(b * BLOCK_SECTORS + 1), sectors_of(0xaa, 1));
    }
}

#[test]
fn the_budget_is_a_bounded_share_of_the_kernel_pool() {
    let none = Budget::for_pool(0);
    assert_eq!((none.share, none.cap), (0, 0));
    assert!(!none.may_grow(0, usize::MAX));
    // 800 frames (3.1 MiB): a 32nd is 3 blocks, an 8th 12.
    let small = Budget::for_pool(800);
    assert_eq!((small.share, small.cap, small.margin), (3, 12, 800 * 1024));
    // 64 MiB: 1 MiB and 8 MiB.
    let mid = Budget::for_pool(16384);
    assert_eq!((mid.share, mid.cap), (32, 256));
    // 4 GiB: the caps, 1 MiB and 16 MiB.
    let big = Budget::for_pool(1 << 20);
    assert_eq!((big.share, big.cap), (32, 512));
    assert!(big.may_grow(31, BLOCK_SIZE));
    assert!(
        !big.may_grow(32, BLOCK_SIZE),
        "past the share: the margin too"
    );
    assert!(big.may_grow(32, BLOCK_SIZE + big.margin));
    assert!(!big.may_grow(512, usize::MAX), "never past the cap");
    assert!(big.must_shrink(33, big.margin - 1));
    assert!(!big.must_shrink(32, 0), "the share is kept");
    assert!(!big.must_shrink(33, big.margin));
}
