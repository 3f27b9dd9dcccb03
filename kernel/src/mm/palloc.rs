//! The physical frame allocator: two pools of 4 KiB frames, one for the kernel
//! (page tables, kernel stacks, the heap, device rings) and one for user pages
//! (Pintos `PAL_USER`), each a bitmap.
//!
//! The user pool gets half of the free frames, capped by `--user-mem`
//! (`BootInfo::user_pool_pages`); the kernel pool gets the rest.
//!
//! The user pool also knows which free frames hold only zeros: all of them at
//! boot (the VMM hands over fresh memory), none once freed, and again those
//! the idle thread zeroes ([`zero_one_free_user_frame`]). A zero-fill fault
//! that gets a known-zero frame skips zeroing it.
mod pool;

use crate::sync::SpinLock;
use abi::boot::BootInfo;
use abi::layout::PAGE_SIZE;
use core::sync::atomic::{AtomicUsize, Ordering};
pub use pool::Pool;
use pool::{MAX_FRAMES, WORDS};

static mut KERNEL_BITS: [u64; WORDS / 2] = [0; WORDS / 2];
static mut USER_BITS: [u64; WORDS / 2] = [0; WORDS / 2];
static mut USER_ZERO: [u64; WORDS / 2] = [0; WORDS / 2];
static KERNEL_POOL: SpinLock<Pool> = SpinLock::new(Pool::empty());
/// Free frames of the kernel pool, kept beside the pool so that the reserve
/// check ([`super::may_charge`]) takes no lock.
static KERNEL_FREE: AtomicUsize = AtomicUsize::new(0);
static USER_POOL: SpinLock<Pool> = SpinLock::new(Pool::empty());

unsafe extern "C" {
    /// End of the kernel image, `.bss` included (from the linker script).
    static __kernel_end: u8;
}

/// Splits the free RAM into the two pools.
pub fn init(boot: &BootInfo) {
    // Never trust the loader to have counted `.bss` (a PT_LOAD without file bytes).
    let image_end = super::virt_to_phys(&raw const __kernel_end as u64);
    let start = boot.free_start.max(image_end).div_ceil(PAGE_SIZE) * PAGE_SIZE;
    let end = boot.mem_size.min(MAX_FRAMES as u64 * PAGE_SIZE) / PAGE_SIZE * PAGE_SIZE;
    let free = ((end - start) / PAGE_SIZE) as usize;
    let mut user = free / 2;
    if boot.user_pool_pages != 0 {
        user = user.min(boot.user_pool_pages as usize);
    }
    let kernel = (free - user).min(WORDS / 2 * 64);
    let user = user.min(WORDS / 2 * 64);
    let (kbits, ubits): (*mut [u64; WORDS / 2], *mut [u64; WORDS / 2]) =
        (&raw mut KERNEL_BITS, &raw mut USER_BITS);
    let uzero: *mut [u64; WORDS / 2] = &raw mut USER_ZERO;
    // SAFETY: init runs once at boot, before any allocation; afterwards the
    // bitmaps are reached only through the pool locks, so these three
    // references are the only ones while they live.
    let (kbits, ubits, uzero) = unsafe { (&mut *kbits, &mut *ubits, &mut *uzero) };
    // Every user frame is fresh guest memory: zero.
    let zero_words = user.div_ceil(64);
    uzero[..zero_words].fill(u64::MAX);
    if !user.is_multiple_of(64) {
        uzero[zero_words - 1] = (1 << (user % 64)) - 1;
    }
    KERNEL_FREE.store(kernel, Ordering::Relaxed);
    *KERNEL_POOL.lock() = Pool {
        base: start,
        count: kernel,
        used: 0,
        bits: kbits,
        hint: 0,
        zero: &mut [],
        zero_hint: 0,
        zeroing: 0,
    };
    *USER_POOL.lock() = Pool {
        base: start + kernel as u64 * PAGE_SIZE,
        count: user,
        used: 0,
        bits: ubits,
        hint: 0,
        zero: &mut uzero[..zero_words],
        zero_hint: 0,
        zeroing: 0,
    };
}

fn zero(pa: u64, n: usize) {
    // SAFETY: the frames were just taken from a pool, so nothing else uses
    // them, and the direct map covers them.
    unsafe {
        crate::arch::cpu::zero_bytes(super::phys_to_virt(pa) as *mut u8, n * PAGE_SIZE as usize)
    };
}

/// `n` contiguous zeroed frames of the kernel pool.
pub fn alloc_kernel_pages(n: usize) -> Option<u64> {
    alloc_kernel_pages_aligned(n, 1)
}

/// `n` contiguous zeroed kernel frames whose address is a multiple of `align` frames.
pub fn alloc_kernel_pages_aligned(n: usize, align: usize) -> Option<u64> {
    let pa = alloc_kernel_pages_uninit(n, align)?;
    zero(pa, n);
    Some(pa)
}

/// `n` contiguous kernel frames with whatever they held (for memory that is
/// initialized before use, like the heap).
pub fn alloc_kernel_pages_uninit(n: usize, align: usize) -> Option<u64> {
    let alloc = || {
        let mut pool = KERNEL_POOL.lock();
        let pa = pool.alloc(n, align);
        KERNEL_FREE.store(pool.count - pool.used, Ordering::Relaxed);
        pa
    };
    alloc().or_else(|| {
        // Spare page-table trees count as free memory: give them back.
        if crate::arch::paging::spare_frames() == 0 {
            return None;
        }
        crate::arch::paging::release_spares();
        alloc()
    })
}

/// Takes the `n` kernel frames from guest-physical `pa` (contents as they
/// are) if every one of them is free; false (and nothing taken) otherwise.
pub fn alloc_kernel_pages_at(pa: u64, n: usize) -> bool {
    let mut pool = KERNEL_POOL.lock();
    let taken = pool.alloc_at(pa, n);
    KERNEL_FREE.store(pool.count - pool.used, Ordering::Relaxed);
    taken
}

/// Returns kernel frames.
pub fn free_kernel_pages(pa: u64, n: usize) {
    let mut pool = KERNEL_POOL.lock();
    pool.free(pa, n);
    KERNEL_FREE.store(pool.count - pool.used, Ordering::Relaxed);
}

/// Free frames of the kernel pool (without taking its lock).
pub fn kernel_free() -> usize {
    KERNEL_FREE.load(Ordering::Relaxed)
}

/// One frame of the user pool and whether it is known to hold only zeros
/// (otherwise it holds whatever it held; the VM fills it).
pub fn alloc_user_page_uninit() -> Option<(u64, bool)> {
    let mut pool = USER_POOL.lock();
    let pa = pool.alloc(1, 1)?;
    let i = ((pa - pool.base) / PAGE_SIZE) as usize;
    Some((pa, pool.take_zero(i)))
}

/// Zeroes one free user frame that is not known to be zero (for the idle
/// thread); returns false when there is none.
pub fn zero_one_free_user_frame() -> bool {
    let (pa, i) = {
        let mut pool = USER_POOL.lock();
        let Some(i) = pool.reserve_dirty() else {
            return false;
        };
        (pool.base + i as u64 * PAGE_SIZE, i)
    };
    zero(pa, 1);
    let mut pool = USER_POOL.lock();
    pool.free(pa, 1);
    pool.zeroing -= 1;
    pool.zero[i / 64] |= 1 << (i % 64);
    true
}

/// The user pool: (first frame's address, number of frames).
pub fn user_pool() -> (u64, usize) {
    let p = USER_POOL.lock();
    (p.base, p.count)
}

/// Returns a user frame.
pub fn free_user_page(pa: u64) {
    let mut pool = USER_POOL.lock();
    assert!(pool.contains(pa), "freeing {pa:#x}, not a user frame");
    pool.free(pa, 1);
}

/// Frames (used, total) of the user pool; a frame the idle thread is zeroing
/// counts as free.
pub fn user_usage() -> (usize, usize) {
    let p = USER_POOL.lock();
    (p.used - p.zeroing, p.count)
}

/// Frames (used, total) of the kernel pool.
pub fn kernel_usage() -> (usize, usize) {
    let p = KERNEL_POOL.lock();
    (p.used, p.count)
}
