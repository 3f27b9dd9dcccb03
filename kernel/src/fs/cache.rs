//! The block cache of the file-system disk: a [`SectorIo`] layer that keeps
//! recently used 32 KiB blocks (64 sectors, aligned on the disk) in memory.
//!
//! Reads are served from memory after the first. A miss reads the whole
//! block with one request, so the next pages of a file (files are contiguous
//! on the disk) come with it: a page of a file that straddles two 4 KiB
//! boundaries of the disk costs no second request, and sequential reads,
//! lazy file faults and exec's code pages take one request per 32 KiB.
//! Writes only mark their sectors dirty. Dirty sectors go to the disk, each
//! run of consecutive ones in one request and a block's requests together
//! (one notification of the virtio disk), when [`BlockCache::flush`] or
//! [`BlockCache::flush_range`] asks (the file system does at close, process
//! exit and shutdown) and when a dirty block is evicted to make room for
//! another (least recently used first). A write that covers a whole block
//! does not read it first.
//!
//! The cache starts empty and grows a block at a time: a miss takes a new
//! block's memory when the [`Budget`] allows one more and the memory can
//! give it ([`cache_memory`](super::cache_memory)), and evicts otherwise. It
//! gives blocks back when the budget says memory is short (checked at every
//! request and flush). While it holds no block and cannot take one,
//! requests go straight to the disk. The swap disk never goes through here: only the
//! file system's volume is built on a cache.

use core::cell::RefCell;

use abi::fs::SECTOR;

use super::FsError;
use super::cache_memory::{BlockSource, Budget};
use super::cache_slots::Slots;
use super::sector_io::SectorIo;

/// Bytes per cache block.
pub const BLOCK_SIZE: usize = 32768;
/// Sectors per cache block.
pub const BLOCK_SECTORS: u64 = (BLOCK_SIZE / SECTOR) as u64;

/// What the cache holds and has done so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Blocks the cache holds now (0: none; requests go to the disk until
    /// it can take one).
    pub blocks: u64,
    /// Block look-ups served from memory.
    pub hits: u64,
    /// Block look-ups that were not (the block is read unless the request
    /// overwrote all of it, or the request went to the disk).
    pub misses: u64,
    /// Dirty blocks written to the disk (one request per run of dirty
    /// sectors), for any reason.
    pub write_backs: u64,
    /// Of those, the ones written to make room for another block.
    pub eviction_write_backs: u64,
    /// Blocks whose memory was given back because memory was short.
    pub released: u64,
}

struct State {
    slots: Slots,
    stats: CacheStats,
}

/// A write-back block cache over disk `D`, its block memory from `M`.
pub struct BlockCache<D, M> {
    disk: D,
    memory: M,
    budget: Budget,
    state: RefCell<State>,
}

impl<D: SectorIo, M: BlockSource> BlockCache<D, M> {
    /// An empty cache over `disk` that takes up to `budget` blocks from
    /// `memory` as it needs them. Allocates nothing.
    pub fn new(disk: D, budget: Budget, memory: M) -> BlockCache<D, M> {
        BlockCache {
            disk,
            memory,
            budget,
            state: RefCell::new(State {
                slots: Slots::new(),
                stats: CacheStats::default(),
            }),
        }
    }

    /// The counters so far.
    pub fn stats(&self) -> CacheStats {
        self.state
            .try_borrow()
            .map(|s| CacheStats {
                blocks: s.slots.len() as u64,
                ..s.stats
            })
            .unwrap_or_default()
    }

    /// Writes every dirty block back (in block order). On a disk error the
    /// remaining blocks are still tried; the blocks that failed stay dirty
    /// and the first error is returned.
    pub fn flush(&self) -> Result<(), FsError> {
        self.flush_range(0, u64::MAX)
    }

    /// Writes back the dirty blocks that hold any of the `count` sectors from
    /// `first`, then gives memory back if the budget says it is short.
    /// Errors as for [`BlockCache::flush`].
    pub fn flush_range(&self, first: u64, count: u64) -> Result<(), FsError> {
        let mut state = self.state.try_borrow_mut().map_err(|_| FsError::Io)?;
        let lo = first / BLOCK_SECTORS;
        let hi = first.saturating_add(count).div_ceil(BLOCK_SECTORS);
        let mut result = Ok(());
        // In disk order: the lowest dirty block above the last one tried.
        let mut from = lo;
        while state.slots.dirty_slots() > 0 {
            let Some((b, i)) = state.slots.lowest_dirty(from, hi) else {
                break;
            };
            if let Err(e) = self.write_back(&mut state, i) {
                result = result.and(Err(e));
            }
            from = b + 1;
        }
        self.relieve(&mut state);
        result
    }

    /// Sectors in block `b` (the last block of the disk may be short).
    fn block_sectors(&self, b: u64) -> u64 {
        self.disk
            .sectors()
            .saturating_sub(b * BLOCK_SECTORS)
            .min(BLOCK_SECTORS)
    }

    /// Writes the dirty sectors of slot `i` to the disk, one request per run
    /// of consecutive dirty sectors, all handed to the disk together (one
    /// exit for the block). On an error every sector stays dirty (some may
    /// have been written: writing them again is harmless).
    fn write_back(&self, state: &mut State, i: usize) -> Result<(), FsError> {
        let slot = state.slots.get(i);
        let (Some(b), dirty) = (slot.block, slot.dirty) else {
            return Ok(());
        };
        if dirty == 0 {
            return Ok(());
        }
        // 64 sectors hold at most 32 runs.
        let mut runs = [(0u64, &[][..]); BLOCK_SECTORS as usize / 2];
        let (mut count, mut rest) = (0, dirty);
        while rest != 0 {
            let first = rest.trailing_zeros() as usize;
            let n = (rest >> first).trailing_ones() as usize;
            runs[count] = (
                b * BLOCK_SECTORS + first as u64,
                &slot.data[first * SECTOR..(first + n) * SECTOR],
            );
            count += 1;
            rest &= !sector_mask(first, n);
        }
        self.disk.write_runs(&runs[..count])?;
        state.slots.mark_clean(i, dirty);
        state.stats.write_backs += 1;
        Ok(())
    }

    /// Gives back blocks (least recently used first, written back first if
    /// dirty) while the budget says memory is short. A block that cannot be
    /// written back stays, and so do the rest.
    fn relieve(&self, state: &mut State) {
        while self
            .budget
            .must_shrink(state.slots.len(), self.memory.spare())
        {
            let Some(i) = state.slots.victim() else {
                return;
            };
            if self.write_back(state, i).is_err() {
                return;
            }
            self.memory.give(state.slots.remove(i));
            state.stats.released += 1;
        }
    }

    /// A new free slot, if the budget allows one more and the memory and the
    /// slot table can give it.
    fn grow(&self, state: &mut State) -> Option<usize> {
        if !self.budget.may_grow(state.slots.len(), self.memory.spare()) {
            return None;
        }
        let data = self.memory.take()?;
        state
            .slots
            .try_add(data)
            .map_err(|data| self.memory.give(data))
            .ok()
    }

    /// The slot holding block `b`. On a miss: a new slot if the cache may
    /// grow, else the free or least recently used one (a dirty victim is
    /// written back first), filled from the disk when `fill`; `None` when
    /// the cache holds no slot and cannot take one. On an error the cache
    /// is left consistent.
    fn slot_for(&self, state: &mut State, b: u64, fill: bool) -> Result<Option<usize>, FsError> {
        if let Some(i) = state.slots.find(b) {
            state.stats.hits += 1;
            return Ok(Some(i));
        }
        state.stats.misses += 1;
        let Some(i) = self.grow(state).or_else(|| state.slots.victim()) else {
            return Ok(None);
        };
        if state.slots.get(i).dirty != 0 {
            self.write_back(state, i)?;
            state.stats.eviction_write_backs += 1;
        }
        state.slots.vacate(i);
        if fill {
            let len = self.block_sectors(b) as usize * SECTOR;
            self.disk
                .read_sectors(b * BLOCK_SECTORS, &mut state.slots.data_mut(i)[..len])?;
        }
        state.slots.assign(i, b);
        Ok(Some(i))
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

/// The first sector of byte `within` of block `b`.
fn sector_of(b: u64, within: usize) -> u64 {
    b * BLOCK_SECTORS + (within / SECTOR) as u64
}

impl<D: SectorIo, M: BlockSource> SectorIo for BlockCache<D, M> {
    fn sectors(&self) -> u64 {
        self.disk.sectors()
    }

    fn read_sectors(&self, sector: u64, buf: &mut [u8]) -> Result<(), FsError> {
        let mut state = self.state.try_borrow_mut().map_err(|_| FsError::Io)?;
        self.check(sector, buf.len())?;
        self.relieve(&mut state);
        let mut result = Ok(());
        for (b, within, at, n) in pieces(sector, buf.len()) {
            let to = &mut buf[at..at + n];
            match self.slot_for(&mut state, b, true) {
                Ok(Some(i)) => to.copy_from_slice(&state.slots.get(i).data[within..within + n]),
                Ok(None) => result = self.disk.read_sectors(sector_of(b, within), to),
                Err(e) => result = Err(e),
            }
            if result.is_err() {
                break;
            }
        }
        result
    }

    fn write_sectors(&self, sector: u64, buf: &[u8]) -> Result<(), FsError> {
        let mut state = self.state.try_borrow_mut().map_err(|_| FsError::Io)?;
        self.check(sector, buf.len())?;
        self.relieve(&mut state);
        let mut result = Ok(());
        for (b, within, at, n) in pieces(sector, buf.len()) {
            let from = &buf[at..at + n];
            let whole = within == 0 && n as u64 == self.block_sectors(b) * SECTOR as u64;
            match self.slot_for(&mut state, b, !whole) {
                Ok(Some(i)) => {
                    state.slots.data_mut(i)[within..within + n].copy_from_slice(from);
                    state
                        .slots
                        .mark_dirty(i, sector_mask(within / SECTOR, n / SECTOR));
                }
                Ok(None) => result = self.disk.write_sectors(sector_of(b, within), from),
                Err(e) => result = Err(e),
            }
            if result.is_err() {
                break;
            }
        }
        result
    }

    fn flush_sectors(&self, first: u64, count: u64) -> Result<(), FsError> {
        self.flush_range(first, count)
    }
}
