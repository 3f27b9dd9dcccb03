//! The block cache's memory: how much the kernel gives it (a share of the
//! kernel pool, from the heap, once at boot) and the fallible allocation
//! that settles for less, or for nothing, when the heap cannot give it.

use alloc::vec::Vec;

use super::cache::BLOCK_SIZE;

/// Most blocks the cache holds: 1 MiB.
pub const MAX_BLOCKS: usize = (1 << 20) / BLOCK_SIZE;

/// Kernel-pool frames per cache block: the cache takes at most 1/32 of the
/// kernel pool (from the kernel heap).
pub const KERNEL_FRAMES_PER_BLOCK: usize = 32 * BLOCK_SIZE / 4096;

/// Blocks the cache asks for with a kernel pool of `kernel_frames`.
pub fn blocks_for(kernel_frames: usize) -> usize {
    (kernel_frames / KERNEL_FRAMES_PER_BLOCK).min(MAX_BLOCKS)
}

/// Memory for up to `want` blocks from `try_alloc(bytes)` (a fallible
/// allocation of zeroed bytes), halving the request after each failure.
/// Returns an empty vector when even one block cannot be had.
pub fn alloc_memory(want: usize, mut try_alloc: impl FnMut(usize) -> Option<Vec<u8>>) -> Vec<u8> {
    let mut blocks = want;
    while blocks > 0 {
        if let Some(memory) = blocks.checked_mul(BLOCK_SIZE).and_then(&mut try_alloc) {
            return memory;
        }
        blocks /= 2;
    }
    Vec::new()
}

/// A fallible heap allocation of `bytes` zeroed bytes.
pub fn try_alloc_zeroed(bytes: usize) -> Option<Vec<u8>> {
    let mut v = Vec::new();
    v.try_reserve_exact(bytes).ok()?;
    v.resize(bytes, 0);
    Some(v)
}
