//! The kernel heap: one physically contiguous run of kernel-pool frames, seen
//! through the direct map (so heap buffers can be handed to devices), managed by
//! the `talc` allocator behind an interrupt-disabling lock.
use super::palloc;
use crate::sync::SpinLock;
use core::alloc::{GlobalAlloc, Layout};
use core::ptr::{NonNull, null_mut};
use talc::{ErrOnOom, Span, Talc};

/// Largest heap, in frames (32 MiB).
const HEAP_MAX_FRAMES: usize = 8192;

struct KernelHeap(SpinLock<Talc<ErrOnOom>>);

#[cfg_attr(not(test), global_allocator)]
static HEAP: KernelHeap = KernelHeap(SpinLock::new(Talc::new(ErrOnOom)));

/// Claims a quarter of the kernel pool (at most 32 MiB) for the heap.
pub fn init() {
    let (_, kernel_frames) = palloc::kernel_usage();
    let frames = (kernel_frames / 4).clamp(64, HEAP_MAX_FRAMES);
    let pa = palloc::alloc_kernel_pages_uninit(frames, 1).expect("no memory for the kernel heap");
    let base = super::phys_to_virt(pa) as *mut u8;
    // SAFETY: the frames are ours for good and mapped through the direct map.
    unsafe {
        HEAP.0
            .lock()
            .claim(Span::from_base_size(
                base,
                frames * abi::layout::PAGE_SIZE as usize,
            ))
            .expect("heap claim");
    }
}

// SAFETY: talc implements a correct allocator; the lock serializes all access
// (and keeps interrupt handlers from re-entering it).
unsafe impl GlobalAlloc for KernelHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded under the lock with the caller's layout.
        unsafe {
            self.0
                .lock()
                .malloc(layout)
                .map_or(null_mut(), |p| p.as_ptr())
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller passes a pointer this allocator returned with `layout`.
        unsafe { self.0.lock().free(NonNull::new_unchecked(ptr), layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let mut talc = self.0.lock();
        let ptr = NonNull::new(ptr).expect("realloc of null");
        // SAFETY: the caller passes a live allocation with `layout`.
        unsafe {
            if new_size <= layout.size() {
                talc.shrink(ptr, layout, new_size);
                ptr.as_ptr()
            } else {
                talc.grow(ptr, layout, new_size)
                    .map_or(null_mut(), |p| p.as_ptr())
            }
        }
    }
}
