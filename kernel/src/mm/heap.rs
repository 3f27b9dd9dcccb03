//! The kernel heap: the `talc` allocator over arenas of kernel-pool frames,
//! behind an interrupt-disabling lock.
//!
//! The heap starts with one small arena and grows on demand: when talc runs
//! out, [`Grow::handle_oom`] takes more frames from the kernel pool, extending
//! the newest arena in place when the frames right above it are free, else
//! claiming a new arena. [`trim`] gives whole free pages at the top of each
//! arena (and wholly free arenas) back to the pool. Arenas are physically
//! contiguous runs seen through the direct map, so every heap block is
//! physically contiguous and can be handed to a device.
//!
//! The heap counts the bytes it has handed out ([`usage`]) so that the kernel
//! can tell how much memory is left ([`super::free_bytes`]).
mod arenas;

use super::palloc;
use crate::sync::SpinLock;
use arenas::{Arena, Grow, PAGE};
use core::alloc::{GlobalAlloc, Layout};
use core::ptr::{NonNull, null_mut};
use core::sync::atomic::{AtomicUsize, Ordering};
use talc::{OomHandler, Span, Talc};

struct KernelHeap(SpinLock<Talc<Grow>>);

#[cfg_attr(not(test), global_allocator)]
static HEAP: KernelHeap = KernelHeap(SpinLock::new(Talc::new(Grow::new())));

/// Bytes handed out and not yet freed.
static ALLOCATED: AtomicUsize = AtomicUsize::new(0);
/// Frames in all arenas (a copy of `Grow::frames` readable without the lock).
static FRAMES: AtomicUsize = AtomicUsize::new(0);

/// Gives the heap its first arena (`frames` frames); the heap grows from the
/// kernel pool afterwards. Panics when the pool cannot give it (boot only).
pub fn init(frames: usize) {
    let mut talc = HEAP.0.lock();
    if Grow::handle_oom(
        &mut talc,
        Layout::from_size_align(frames * PAGE - 512, 8).unwrap(),
    )
    .is_err()
    {
        panic!("no memory for the kernel heap");
    }
}

/// Whether an allocation of `layout` would succeed now (the heap grows if it
/// must): takes and gives back a block under the heap's lock, so that the
/// answer holds until interrupts are next enabled on this single CPU.
///
/// A block that fits in one frame with the heap's overhead needs no trial
/// while the heap can grow by a frame (a free frame in the pool and room in
/// the arena table: `arenas::Grow` then never fails for it). The trial, a
/// `malloc` and a `free` under the lock, costs more than the allocation
/// itself, and `fork` copies every descriptor through here.
pub fn can_allocate(layout: Layout) -> bool {
    let mut talc = HEAP.0.lock();
    if layout.size() + layout.align() + arenas::GROW_OVERHEAD <= PAGE
        && palloc::kernel_free() > 0
        && talc.oom_handler.has_room()
    {
        return true;
    }
    // SAFETY: a block taken here is freed right away with the same layout.
    unsafe {
        match talc.malloc(layout) {
            Ok(p) => {
                talc.free(p, layout);
                true
            }
            Err(()) => false,
        }
    }
}

/// (bytes allocated, frames the heap holds), without taking the lock.
pub fn usage() -> (usize, usize) {
    (
        ALLOCATED.load(Ordering::Relaxed),
        FRAMES.load(Ordering::Relaxed),
    )
}

/// [`trim`]s when the heap holds much more than it has handed out (a
/// quarter of it, and at least 256 KiB): cheap to call often (at every
/// process exit), without giving pages back and taking them again for each
/// small change.
pub fn trim_slack() {
    let (allocated, frames) = usage();
    let held = frames * PAGE;
    let slack = held.saturating_sub(allocated);
    if slack >= (held / 4).max(256 << 10) {
        trim();
    }
}

/// Returns to the kernel pool every whole free page at the top of an arena,
/// and every arena with nothing allocated in it but the first (which holds
/// talc's own tables). Returns the frames given back.
pub fn trim() -> usize {
    let mut talc = HEAP.0.lock();
    let mut freed = 0;
    let mut i = talc.oom_handler.len;
    while i > 0 {
        i -= 1;
        let arena = talc.oom_handler.arenas[i];
        // SAFETY: `arena.heap()` is a heap of this allocator as talc last
        // returned it.
        let used = unsafe { talc.get_allocated_span(arena.heap()) };
        let used_end = used
            .get_base_acme()
            .filter(|(base, acme)| base < acme)
            .map(|(_, acme)| super::virt_to_phys(acme as u64));
        let keep = match used_end {
            // An arena with nothing in it (not the first one, which holds
            // talc's own tables) goes entirely.
            None if i > 0 => 0,
            None => continue,
            Some(end) => (end - arena.pa).div_ceil(PAGE as u64) as usize,
        };
        if keep >= arena.frames {
            continue;
        }
        let request = if keep == 0 {
            Span::empty()
        } else {
            // From the heap's own base up to the kept frames' end: it
            // covers every allocation of the arena.
            let (base, _) = arena.heap().get_base_acme().unwrap_or_default();
            Span::new(
                base,
                Arena::frames_span(arena.pa, keep)
                    .get_base_acme()
                    .map_or(base, |(_, a)| a),
            )
        };
        // SAFETY: `arena.heap()` is this allocator's heap, and `request`
        // lies inside it and covers its allocated span.
        let heap = unsafe { talc.truncate(arena.heap(), request) };
        palloc::free_kernel_pages(arena.pa + (keep * PAGE) as u64, arena.frames - keep);
        freed += arena.frames - keep;
        let g = &mut talc.oom_handler;
        g.frames -= arena.frames - keep;
        FRAMES.store(g.frames, Ordering::Relaxed);
        if keep == 0 {
            g.arenas.copy_within(i + 1..g.len, i);
            g.len -= 1;
        } else {
            g.arenas[i] = Arena {
                frames: keep,
                ..arena
            }
            .with_heap(heap);
        }
    }
    freed
}

// SAFETY: talc implements a correct allocator; the lock serializes all access
// (and keeps interrupt handlers from re-entering it).
unsafe impl GlobalAlloc for KernelHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded under the lock with the caller's layout.
        let p = unsafe { self.0.lock().malloc(layout) };
        match p {
            Ok(p) => {
                ALLOCATED.fetch_add(layout.size(), Ordering::Relaxed);
                p.as_ptr()
            }
            Err(()) => null_mut(),
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        ALLOCATED.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller passes a pointer this allocator returned with `layout`.
        unsafe { self.0.lock().free(NonNull::new_unchecked(ptr), layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let mut talc = self.0.lock();
        let Some(ptr) = NonNull::new(ptr) else {
            return null_mut();
        };
        // SAFETY: the caller passes a live allocation with `layout`.
        unsafe {
            if new_size <= layout.size() {
                talc.shrink(ptr, layout, new_size);
                ALLOCATED.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
                ptr.as_ptr()
            } else {
                match talc.grow(ptr, layout, new_size) {
                    Ok(p) => {
                        ALLOCATED.fetch_add(new_size - layout.size(), Ordering::Relaxed);
                        p.as_ptr()
                    }
                    Err(()) => null_mut(),
                }
            }
        }
    }
}
