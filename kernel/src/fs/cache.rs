//! The block cache of the file-system disk: a [`SectorIo`] layer that keeps
//! recently used 32 KiB blocks (64 sectors, aligned on the disk) in memory.
//!
//! Reads are served from memory after the first. A miss reads the whole
//! block with one request, so the next pages of a file (files are contiguous
//! on the disk) come with it: a page of a file that straddles two 4 KiB
//! boundaries of the disk costs no second request, and sequential reads,
//! lazy file faults and exec's code pages take one request per 32 KiB.
//! Writes only mark their sectors dirty. Dirty sectors go to the disk, each
//! run of consecutive ones in one request, when [`BlockCache::flush`] or
//! [`BlockCache::flush_range`] asks (the file system does at close, process
//! exit and shutdown) and when a dirty block is evicted to make room for
//! another (least recently used first). A write that covers a whole block
//! does not read it first.
//!
//! The memory is given once, at creation, and never grows: the cache holds
//! `memory.len() / BLOCK_SIZE` blocks. With none (the allocation at boot
//! failed) every request goes straight to the disk. The swap disk never goes
//! through here: only the file system's volume is built on a cache.

use alloc::vec::Vec;
use core::cell::RefCell;

use hashbrown::HashMap;

use abi::fs::SECTOR;

use super::FsError;
use super::sector_io::SectorIo;

/// Bytes per cache block.
pub const BLOCK_SIZE: usize = 32768;
/// Sectors per cache block.
pub const BLOCK_SECTORS: u64 = (BLOCK_SIZE / SECTOR) as u64;

/// What the cache has done so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Blocks the cache can hold (0: it is bypassed).
    pub blocks: u64,
    /// Block look-ups served from memory.
    pub hits: u64,
    /// Block look-ups that had to take a slot (reading the block unless the
    /// request overwrote all of it).
    pub misses: u64,
    /// Dirty blocks written to the disk (one request per run of dirty
    /// sectors), for any reason.
    pub write_backs: u64,
    /// Of those, the ones written to make room for another block.
    pub eviction_write_backs: u64,
}

/// One cached block.
#[derive(Clone, Copy, Debug)]
struct Slot {
    /// Block number (sector / [`BLOCK_SECTORS`]), `None` while the slot is free.
    block: Option<u64>,
    /// The block's sectors modified since it was read or last written back
    /// (bit `i`: sector `i` of the block; 0: clean).
    dirty: u64,
    /// Tick of the last use (larger is more recent).
    used: u64,
}

struct State {
    slots: Vec<Slot>,
    /// Block number -> slot, for every valid slot. Its capacity is reserved
    /// at creation for twice the slots, so that it never allocates again
    /// (hashbrown then always rehashes in place).
    index: HashMap<u64, usize>,
    /// Slots with dirty sectors (so that a clean cache flushes at no cost).
    dirty: usize,
    /// `slots.len()` blocks of [`BLOCK_SIZE`] bytes; slot `i` owns block `i`.
    memory: Vec<u8>,
    tick: u64,
    stats: CacheStats,
}

/// A write-back block cache over disk `D`.
pub struct BlockCache<D> {
    disk: D,
    state: RefCell<State>,
}

impl<D: SectorIo> BlockCache<D> {
    /// A cache over `disk` holding `memory.len() / BLOCK_SIZE` blocks. If the
    /// slot table or the index cannot be allocated the cache holds none (and
    /// is bypassed).
    pub fn new(disk: D, mut memory: Vec<u8>) -> BlockCache<D> {
        let mut n = memory.len() / BLOCK_SIZE;
        let mut slots = Vec::new();
        let mut index = HashMap::new();
        if slots.try_reserve_exact(n).is_err() || index.try_reserve(2 * n + 2).is_err() {
            n = 0;
        }
        memory.truncate(n * BLOCK_SIZE);
        slots.resize(
            n,
            Slot {
                block: None,
                dirty: 0,
                used: 0,
            },
        );
        BlockCache {
            disk,
            state: RefCell::new(State {
                slots,
                index,
                dirty: 0,
                memory,
                tick: 0,
                stats: CacheStats {
                    blocks: n as u64,
                    ..CacheStats::default()
                },
            }),
        }
    }

    /// The counters so far.
    pub fn stats(&self) -> CacheStats {
        self.state.try_borrow().map(|s| s.stats).unwrap_or_default()
    }

    /// Writes every dirty block back (in block order). On a disk error the
    /// remaining blocks are still tried; the blocks that failed stay dirty
    /// and the first error is returned.
    pub fn flush(&self) -> Result<(), FsError> {
        self.flush_range(0, u64::MAX)
    }

    /// Writes back the dirty blocks that hold any of the `count` sectors from
    /// `first`. Errors as for [`BlockCache::flush`].
    pub fn flush_range(&self, first: u64, count: u64) -> Result<(), FsError> {
        let mut state = self.state.try_borrow_mut().map_err(|_| FsError::Io)?;
        if state.dirty == 0 {
            return Ok(());
        }
        let lo = first / BLOCK_SECTORS;
        let hi = first.saturating_add(count).div_ceil(BLOCK_SECTORS);
        let mut result = Ok(());
        // Block by block in disk order: the lowest dirty block above the last
        // one tried (a handful of dirty blocks is the usual case).
        let mut from = lo;
        loop {
            let next = state
                .slots
                .iter()
                .enumerate()
                .filter(|(_, s)| s.dirty != 0)
                .filter_map(|(i, s)| s.block.map(|b| (b, i)))
                .filter(|&(b, _)| b >= from && b < hi)
                .min();
            let Some((b, i)) = next else {
                return result;
            };
            if let Err(e) = self.write_back(&mut state, i) {
                result = result.and(Err(e));
            }
            from = b + 1;
        }
    }

    /// Sectors in block `b` (the last block of the disk may be short).
    fn block_sectors(&self, b: u64) -> u64 {
        self.disk
            .sectors()
            .saturating_sub(b * BLOCK_SECTORS)
            .min(BLOCK_SECTORS)
    }

    /// Writes the dirty sectors of slot `i` (valid and dirty) to the disk,
    /// one request per run of consecutive dirty sectors. On an error the
    /// sectors not written stay dirty.
    fn write_back(&self, state: &mut State, i: usize) -> Result<(), FsError> {
        let b = state.slots[i].block.ok_or(FsError::Io)?;
        let at = i * BLOCK_SIZE;
        while state.slots[i].dirty != 0 {
            let mask = state.slots[i].dirty;
            let first = mask.trailing_zeros() as usize;
            let n = (mask >> first).trailing_ones() as usize;
            let bytes = at + first * SECTOR..at + (first + n) * SECTOR;
            self.disk
                .write_sectors(b * BLOCK_SECTORS + first as u64, &state.memory[bytes])?;
            state.slots[i].dirty &= !sector_mask(first, n);
        }
        state.dirty -= 1;
        state.stats.write_backs += 1;
        Ok(())
    }

    /// The slot holding block `b`, taking (and filling, when `fill`) the free
    /// or least recently used one on a miss; a dirty victim is written back
    /// first. On an error the cache is left consistent.
    fn slot_for(&self, state: &mut State, b: u64, fill: bool) -> Result<usize, FsError> {
        state.tick += 1;
        let tick = state.tick;
        if let Some(&i) = state.index.get(&b) {
            state.slots[i].used = tick;
            state.stats.hits += 1;
            return Ok(i);
        }
        state.stats.misses += 1;
        let victim = state
            .slots
            .iter()
            .enumerate()
            .min_by_key(|(_, s)| (s.block.is_some(), s.used))
            .map(|(i, _)| i)
            .ok_or(FsError::Io)?;
        if state.slots[victim].dirty != 0 {
            self.write_back(state, victim)?;
            state.stats.eviction_write_backs += 1;
        }
        if let Some(old) = state.slots[victim].block.take() {
            state.index.remove(&old);
        }
        if fill {
            let len = self.block_sectors(b) as usize * SECTOR;
            let at = victim * BLOCK_SIZE;
            self.disk
                .read_sectors(b * BLOCK_SECTORS, &mut state.memory[at..at + len])?;
        }
        state.slots[victim] = Slot {
            block: Some(b),
            dirty: 0,
            used: tick,
        };
        state.index.insert(b, victim);
        Ok(victim)
    }

    /// Checks that `len` bytes from `sector` are whole sectors on the disk.
    fn check(&self, sector: u64, len: usize) -> Result<(), FsError> {
        let end = sector.checked_add((len / SECTOR) as u64);
        if !len.is_multiple_of(SECTOR) || end.is_none_or(|end| end > self.disk.sectors()) {
            return Err(FsError::Io);
        }
        Ok(())
    }
}

/// The bits of `n` sectors from sector `first` of a block.
fn sector_mask(first: usize, n: usize) -> u64 {
    let ones = if n >= 64 { u64::MAX } else { (1 << n) - 1 };
    ones << first
}

/// The pieces of a transfer of `len` bytes from `sector`: (block, byte offset
/// in the block, byte offset in the buffer, bytes).
fn pieces(sector: u64, len: usize) -> impl Iterator<Item = (u64, usize, usize, usize)> {
    let mut done = 0usize;
    core::iter::from_fn(move || {
        if done >= len {
            return None;
        }
        let s = sector + (done / SECTOR) as u64;
        let within = (s % BLOCK_SECTORS) as usize * SECTOR;
        let n = (BLOCK_SIZE - within).min(len - done);
        let piece = (s / BLOCK_SECTORS, within, done, n);
        done += n;
        Some(piece)
    })
}

impl<D: SectorIo> SectorIo for BlockCache<D> {
    fn sectors(&self) -> u64 {
        self.disk.sectors()
    }

    fn read_sectors(&self, sector: u64, buf: &mut [u8]) -> Result<(), FsError> {
        let mut state = self.state.try_borrow_mut().map_err(|_| FsError::Io)?;
        if state.slots.is_empty() {
            return self.disk.read_sectors(sector, buf);
        }
        self.check(sector, buf.len())?;
        for (b, within, at, n) in pieces(sector, buf.len()) {
            let i = self.slot_for(&mut state, b, true)?;
            let from = i * BLOCK_SIZE + within;
            buf[at..at + n].copy_from_slice(&state.memory[from..from + n]);
        }
        Ok(())
    }

    fn write_sectors(&self, sector: u64, buf: &[u8]) -> Result<(), FsError> {
        let mut state = self.state.try_borrow_mut().map_err(|_| FsError::Io)?;
        if state.slots.is_empty() {
            return self.disk.write_sectors(sector, buf);
        }
        self.check(sector, buf.len())?;
        for (b, within, at, n) in pieces(sector, buf.len()) {
            let whole = within == 0 && n as u64 == self.block_sectors(b) * SECTOR as u64;
            let i = self.slot_for(&mut state, b, !whole)?;
            let to = i * BLOCK_SIZE + within;
            state.memory[to..to + n].copy_from_slice(&buf[at..at + n]);
            if state.slots[i].dirty == 0 {
                state.dirty += 1;
            }
            state.slots[i].dirty |= sector_mask(within / SECTOR, n / SECTOR);
        }
        Ok(())
    }

    fn flush_sectors(&self, first: u64, count: u64) -> Result<(), FsError> {
        self.flush_range(first, count)
    }
}
