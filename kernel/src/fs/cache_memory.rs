//! The block cache's memory: how many blocks it may hold ([`Budget`]) and
//! where a block's memory comes from and goes back to ([`BlockSource`]; in
//! the kernel, [`KernelHeap`]).
//!
//! The cache starts empty and takes a block's memory (32 KiB, fallibly) when
//! a miss needs a slot and the budget allows one more; otherwise the miss
//! evicts the least recently used block. Nothing is taken at boot, so a VM
//! that reads a few blocks touches only those. The budget, for a kernel pool
//! of P bytes:
//!
//! - never more than the cap, P/8 and at most 16 MiB (a 3 MiB file mapping
//!   fits at the default `--mem 64M`, a 4 MiB one with `--user-mem 2M`);
//! - up to the share, P/32 and at most 1 MiB (what the cache took at boot
//!   before it grew on demand), whenever the heap can give a block without
//!   eating into the kernel's reserve;
//! - above the share only while a quarter of the pool (the margin) stays
//!   free beyond the reserve, memory no program is close to needing. When
//!   less is free, the cache gives its blocks above the share back at its
//!   next request or flush (every file read or write, page-in of a file,
//!   close, process exit and shutdown), so that a program that runs kernel
//!   memory out finds the cache no larger than it was before it could grow.

use alloc::boxed::Box;
use alloc::vec::Vec;

use super::cache::BLOCK_SIZE;

/// Most bytes the cache ever holds.
pub const CAP_BYTES_MAX: usize = 16 << 20;
/// The cap is this fraction of the kernel pool (when under [`CAP_BYTES_MAX`]).
pub const CAP_DIVISOR: usize = 8;
/// Most bytes the cache holds on the reserve rule alone.
pub const SHARE_BYTES_MAX: usize = 1 << 20;
/// The share is this fraction of the kernel pool (when under [`SHARE_BYTES_MAX`]).
pub const SHARE_DIVISOR: usize = 32;
/// Above its share, the cache holds blocks only while this fraction of the
/// kernel pool is free beyond the reserve.
pub const MARGIN_DIVISOR: usize = 4;

/// How many blocks the cache may hold, and when (see the module documentation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    /// Blocks the cache may take whenever memory can give them.
    pub share: usize,
    /// Most blocks, ever (at least `share`).
    pub cap: usize,
    /// Bytes that must stay free beyond the reserve for a block above the share.
    pub margin: usize,
}

impl Budget {
    /// The budget for a kernel pool of `kernel_frames` 4 KiB frames.
    pub fn for_pool(kernel_frames: usize) -> Budget {
        let pool = kernel_frames.saturating_mul(4096);
        let share = (pool / SHARE_DIVISOR).min(SHARE_BYTES_MAX) / BLOCK_SIZE;
        let cap = (pool / CAP_DIVISOR).min(CAP_BYTES_MAX) / BLOCK_SIZE;
        Budget {
            share,
            cap: cap.max(share),
            margin: pool / MARGIN_DIVISOR,
        }
    }

    /// Whether a cache holding `held` blocks may take another when `spare`
    /// bytes of kernel memory are free beyond the reserve.
    pub fn may_grow(&self, held: usize, spare: usize) -> bool {
        let needed = if held < self.share {
            BLOCK_SIZE
        } else {
            BLOCK_SIZE.saturating_add(self.margin)
        };
        held < self.cap && spare >= needed
    }

    /// Whether a cache holding `held` blocks must give one back when `spare`
    /// bytes of kernel memory are free beyond the reserve.
    pub fn must_shrink(&self, held: usize, spare: usize) -> bool {
        held > self.share && spare < self.margin
    }
}

/// Where the cache's block memory comes from.
pub trait BlockSource {
    /// Bytes of kernel memory free beyond the reserve.
    fn spare(&self) -> usize;
    /// [`BLOCK_SIZE`] zeroed bytes; `None` when memory cannot give them.
    fn take(&self) -> Option<Box<[u8]>>;
    /// Takes back a block's memory from [`BlockSource::take`].
    fn give(&self, block: Box<[u8]>);
}

impl<T: BlockSource + ?Sized> BlockSource for &T {
    fn spare(&self) -> usize {
        (**self).spare()
    }

    fn take(&self) -> Option<Box<[u8]>> {
        (**self).take()
    }

    fn give(&self, block: Box<[u8]>) {
        (**self).give(block)
    }
}

/// Block memory from the kernel heap, which grows from the kernel pool and
/// gives pages back to it.
pub struct KernelHeap;

impl BlockSource for KernelHeap {
    fn spare(&self) -> usize {
        crate::mm::free_bytes().saturating_sub(crate::mm::reserve_bytes())
    }

    fn take(&self) -> Option<Box<[u8]>> {
        try_zeroed_block()
    }

    fn give(&self, block: Box<[u8]>) {
        drop(block);
    }
}

/// A fallible heap allocation of [`BLOCK_SIZE`] zeroed bytes.
pub fn try_zeroed_block() -> Option<Box<[u8]>> {
    let mut v = Vec::new();
    v.try_reserve_exact(BLOCK_SIZE).ok()?;
    v.resize(BLOCK_SIZE, 0);
    Some(v.into_boxed_slice())
}

/// Block memory for host tests: `spare` bytes are free beyond the reserve,
/// each block taken uses [`BLOCK_SIZE`] of them and each one given back
/// returns them; while `failing` is set every allocation fails.
#[cfg(test)]
pub struct TestMemory {
    /// Bytes free beyond the reserve.
    pub spare: core::cell::Cell<usize>,
    /// While set, [`BlockSource::take`] fails.
    pub failing: core::cell::Cell<bool>,
    /// Blocks taken and not given back.
    pub out: core::cell::Cell<usize>,
}

#[cfg(test)]
impl TestMemory {
    /// `spare` bytes free, no block out.
    pub fn new(spare: usize) -> TestMemory {
        TestMemory {
            spare: core::cell::Cell::new(spare),
            failing: core::cell::Cell::new(false),
            out: core::cell::Cell::new(0),
        }
    }
}

#[cfg(test)]
impl BlockSource for TestMemory {
    fn spare(&self) -> usize {
        self.spare.get()
    }

    fn take(&self) -> Option<Box<[u8]>> {
        if self.failing.get() || self.spare.get() < BLOCK_SIZE {
            return None;
        }
        self.spare.set(self.spare.get() - BLOCK_SIZE);
        self.out.set(self.out.get() + 1);
        Some(vec![0; BLOCK_SIZE].into_boxed_slice())
    }

    fn give(&self, block: Box<[u8]>) {
        assert_eq!(block.len(), BLOCK_SIZE, "not a block");
        self.spare.set(self.spare.get() + BLOCK_SIZE);
        self.out.set(self.out.get() - 1);
    }
}
