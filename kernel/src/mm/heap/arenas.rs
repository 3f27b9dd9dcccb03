//! The heap's arenas and their growth: talc's out-of-memory handler
//! ([`Grow`]) takes frames from the kernel pool, extending an arena in place
//! when the frames beside it are free, else claiming frames anywhere.
use super::FRAMES;
use crate::mm::palloc;
use abi::layout::PAGE_SIZE;
use core::alloc::Layout;
use core::sync::atomic::Ordering;
use talc::{OomHandler, Span, Talc};

/// Most arenas the heap can hold (growth is geometric and arenas are
/// extended in place when they can be, so few are needed).
const MAX_ARENAS: usize = 1024;

/// Bytes a growth adds beyond a block's size and alignment, for the heap's
/// own bookkeeping in the new span.
pub(super) const GROW_OVERHEAD: usize = 256;
/// Smallest growth, in frames.
const MIN_GROW_FRAMES: usize = 16;
pub(super) const PAGE: usize = PAGE_SIZE as usize;

/// One arena: `frames` kernel frames from guest-physical `pa`, and the heap
/// talc made of them (`base..acme`, which talc may keep a little inside the
/// frames).
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Arena {
    pub(super) pa: u64,
    pub(super) frames: usize,
    pub(super) base: usize,
    pub(super) acme: usize,
}

impl Arena {
    /// The whole of `frames` frames from `pa`, as a span.
    pub(super) fn frames_span(pa: u64, frames: usize) -> Span {
        Span::from_base_size(crate::mm::phys_to_virt(pa) as *mut u8, frames * PAGE)
    }

    /// The heap talc keeps in this arena.
    pub(super) fn heap(self) -> Span {
        Span::new(self.base as *mut u8, self.acme as *mut u8)
    }

    /// Records the heap talc returned.
    pub(super) fn with_heap(self, heap: Span) -> Arena {
        let (base, acme) = heap
            .get_base_acme()
            .map_or((0, 0), |(b, a)| (b as usize, a as usize));
        Arena { base, acme, ..self }
    }

    fn end(self) -> u64 {
        self.pa + (self.frames * PAGE) as u64
    }
}

/// talc's out-of-memory handler: the arenas, and growth from the kernel pool.
pub(super) struct Grow {
    pub(super) arenas: [Arena; MAX_ARENAS],
    pub(super) len: usize,
    /// Frames in all arenas.
    pub(super) frames: usize,
}

impl Grow {
    pub(super) const fn new() -> Grow {
        Grow {
            arenas: [Arena {
                pa: 0,
                frames: 0,
                base: 0,
                acme: 0,
            }; MAX_ARENAS],
            len: 0,
            frames: 0,
        }
    }
}

impl Grow {
    /// Makes arena `i` cover `frames` frames from `pa` (which contain its
    /// old frames; the new ones were just taken from the pool for it).
    fn grow_arena(talc: &mut Talc<Self>, i: usize, pa: u64, frames: usize) {
        let arena = talc.oom_handler.arenas[i];
        let request = Arena::frames_span(pa, frames);
        // SAFETY: `arena.heap()` is a heap of this allocator as talc last
        // returned it, `request` contains it, and the frames around it are
        // the heap's now.
        let heap = unsafe { talc.extend(arena.heap(), request) };
        let g = &mut talc.oom_handler;
        g.frames += frames - arena.frames;
        g.arenas[i] = Arena {
            pa,
            frames,
            ..arena
        }
        .with_heap(heap);
        FRAMES.store(g.frames, Ordering::Relaxed);
    }

    /// Takes `n` frames next to an arena (above or below it) and grows it;
    /// false if no arena has `n` free frames beside it.
    fn extend_in_place(talc: &mut Talc<Self>, n: usize) -> bool {
        for i in (0..talc.oom_handler.len).rev() {
            let arena = talc.oom_handler.arenas[i];
            if palloc::alloc_kernel_pages_at(arena.end(), n) {
                Self::grow_arena(talc, i, arena.pa, arena.frames + n);
                return true;
            }
            let below = arena.pa.checked_sub((n * PAGE) as u64);
            if let Some(below) = below
                && palloc::alloc_kernel_pages_at(below, n)
            {
                Self::grow_arena(talc, i, below, arena.frames + n);
                return true;
            }
        }
        false
    }

    /// Takes `n` frames anywhere: grows the arena they touch, if one does,
    /// else makes them a new arena. False when the pool has no such run, or
    /// the arena table is full and they touch no arena.
    /// Whether the table has room for one more arena (so that frames
    /// taken anywhere can always be added to the heap).
    pub(super) fn has_room(&self) -> bool {
        self.len < MAX_ARENAS
    }

    fn take_anywhere(talc: &mut Talc<Self>, n: usize) -> bool {
        let Some(pa) = palloc::alloc_kernel_pages_uninit(n, 1) else {
            return false;
        };
        let end = pa + (n * PAGE) as u64;
        let g = &talc.oom_handler;
        if let Some(i) = g.arenas[..g.len].iter().position(|a| a.end() == pa) {
            let arena = g.arenas[i];
            Self::grow_arena(talc, i, arena.pa, arena.frames + n);
            return true;
        }
        if let Some(i) = g.arenas[..g.len].iter().position(|a| a.pa == end) {
            let arena = g.arenas[i];
            Self::grow_arena(talc, i, pa, arena.frames + n);
            return true;
        }
        if g.len == MAX_ARENAS {
            palloc::free_kernel_pages(pa, n);
            return false;
        }
        // SAFETY: the frames were just taken from the pool for the heap and
        // are reached through the direct map.
        let Ok(heap) = (unsafe { talc.claim(Arena::frames_span(pa, n)) }) else {
            palloc::free_kernel_pages(pa, n);
            return false;
        };
        let g = &mut talc.oom_handler;
        g.arenas[g.len] = Arena {
            pa,
            frames: n,
            ..Arena::default()
        }
        .with_heap(heap);
        g.len += 1;
        g.frames += n;
        FRAMES.store(g.frames, Ordering::Relaxed);
        true
    }
}

impl OomHandler for Grow {
    /// Adds at least enough memory for `layout` (and at least an eighth of
    /// the heap, so that arenas stay few): grows an arena in place when the
    /// frames next to it are free, else takes frames anywhere (growing the
    /// arena they touch, or as a new arena); fails when the kernel pool
    /// cannot give even what `layout` needs.
    fn handle_oom(talc: &mut Talc<Self>, layout: Layout) -> Result<(), ()> {
        let need = (layout.size() + layout.align() + GROW_OVERHEAD).div_ceil(PAGE);
        let want = need.max(MIN_GROW_FRAMES).max(talc.oom_handler.frames / 8);
        for n in [want, need] {
            if Self::extend_in_place(talc, n) || Self::take_anywhere(talc, n) {
                return Ok(());
            }
        }
        Err(())
    }
}
