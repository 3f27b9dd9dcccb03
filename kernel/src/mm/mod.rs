//! Physical memory: the kernel and user frame pools ([`palloc`]), the kernel
//! heap ([`heap`]), fallible allocation for what user programs can make the
//! kernel allocate ([`fallible`]), the boot information the VMM leaves in
//! RAM ([`boot`]), and the translations between guest-physical addresses and
//! the kernel's virtual addresses.
//!
//! Kernel memory is one pool: the heap grows from it and gives back to it,
//! page tables and kernel stacks come from it. A part of it, the reserve
//! ([`reserve_bytes`]), is kept for the kernel's own small allocations that
//! cannot fail (a wait-queue entry, a record of a child's exit): allocations
//! made on behalf of a user program ([`may_charge`], [`fallible`],
//! [`alloc_charged_pages`]) fail before they would take it, and that failure
//! becomes the system call's error (`fork` -1, `open` -1, `mmap` NULL, ...)
//! or kills the process that faulted.
pub mod boot;
pub mod fallible;
pub mod frames;
pub mod heap;
pub mod palloc;
#[cfg(test)]
pub mod test_budget;

use abi::boot::BootInfo;
use abi::layout::{DIRECT_MAP_BASE, KERNEL_VIRT_BASE, PAGE_SIZE};
use core::sync::atomic::{AtomicUsize, Ordering};

pub use fallible::OutOfMemory;
pub use frames::FrameAccess;

/// Smallest reserve, in frames.
const RESERVE_MIN_FRAMES: usize = 32;
/// The reserve is this fraction of the kernel pool (when larger than the minimum).
const RESERVE_DIVISOR: usize = 32;

/// Frames of the kernel pool user-driven allocations leave alone.
static RESERVE_FRAMES: AtomicUsize = AtomicUsize::new(RESERVE_MIN_FRAMES);

/// Kernel virtual address of a guest-physical address (through the direct map).
#[inline]
pub fn phys_to_virt(pa: u64) -> u64 {
    DIRECT_MAP_BASE + pa
}

/// Guest-physical address of a kernel virtual address in the direct map or the
/// kernel image.
#[inline]
pub fn virt_to_phys(va: u64) -> u64 {
    if va >= KERNEL_VIRT_BASE {
        va - KERNEL_VIRT_BASE
    } else {
        va - DIRECT_MAP_BASE
    }
}

/// Whether `[va, va + len)` lies in user space without wrapping.
pub fn is_user_range(va: u64, len: u64) -> bool {
    va.checked_add(len)
        .is_some_and(|end| end <= abi::layout::USER_LIMIT)
}

/// Sets up the frame pools, the reserve and the heap's first arena.
pub fn init(boot: &BootInfo) {
    palloc::init(boot);
    let (_, kernel_frames) = palloc::kernel_usage();
    RESERVE_FRAMES.store(
        (kernel_frames / RESERVE_DIVISOR).max(RESERVE_MIN_FRAMES),
        Ordering::Relaxed,
    );
    heap::init((kernel_frames / 64).clamp(16, 1024));
}

/// Bytes of kernel memory still free: free kernel-pool frames, plus what the
/// heap holds but has not handed out.
pub fn free_bytes() -> usize {
    let (allocated, heap_frames) = heap::usage();
    (palloc::kernel_free() + crate::arch::paging::spare_frames()) * PAGE_SIZE as usize
        + (heap_frames * PAGE_SIZE as usize).saturating_sub(allocated)
}

/// The reserve in bytes (see the module documentation).
pub fn reserve_bytes() -> usize {
    RESERVE_FRAMES.load(Ordering::Relaxed) * PAGE_SIZE as usize
}

/// Whether `bytes` more kernel memory may be spent on behalf of a user
/// program: false when that would eat into the reserve.
pub fn may_charge(bytes: usize) -> bool {
    #[cfg(test)]
    {
        let _ = bytes;
        test_budget::charge()
    }
    #[cfg(not(test))]
    {
        free_bytes() >= bytes.saturating_add(reserve_bytes())
    }
}

/// `n` contiguous zeroed kernel frames aligned to `align` frames, taken on
/// behalf of a user program (page tables, a process's kernel stack): `None`
/// when the pool has no such run or taking it would eat into the reserve.
pub fn alloc_charged_pages(n: usize, align: usize) -> Option<u64> {
    if !may_charge(n * PAGE_SIZE as usize) {
        return None;
    }
    palloc::alloc_kernel_pages_aligned(n, align)
}

/// Kernel-pool frames in use outside the heap (page tables, stacks, device
/// rings), after giving the heap's free pages back: what the leak check
/// compares before and after the user processes ran.
pub fn kernel_frames_outside_heap() -> usize {
    heap::trim();
    crate::arch::paging::release_spares();
    let (used, _) = palloc::kernel_usage();
    used - heap::usage().1
}
