//! Fallible allocation for memory a user program can make the kernel
//! allocate: every helper fails with [`OutOfMemory`] instead of panicking,
//! and fails early when the allocation would eat into the kernel's reserve
//! (see [`super::may_charge`]), so that the kernel's own small allocations
//! that cannot fail always find memory.
use alloc::alloc::{Layout, alloc};
use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;

/// The kernel has no memory left for this request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutOfMemory;

/// Checks the reserve for `bytes` more.
fn charge(bytes: usize) -> Result<(), OutOfMemory> {
    if super::may_charge(bytes) {
        Ok(())
    } else {
        Err(OutOfMemory)
    }
}

/// Makes room for `additional` more elements in `v`; fails (leaving `v` as
/// it was) when memory is short.
pub fn try_reserve<T>(v: &mut Vec<T>, additional: usize) -> Result<(), OutOfMemory> {
    if v.capacity() - v.len() >= additional {
        return Ok(());
    }
    let bytes = additional.saturating_mul(core::mem::size_of::<T>());
    charge(bytes)?;
    v.try_reserve(additional).map_err(|_| OutOfMemory)
}

/// An empty vector with room for `capacity` elements, or `OutOfMemory`.
pub fn try_vec<T>(capacity: usize) -> Result<Vec<T>, OutOfMemory> {
    let mut v = Vec::new();
    try_reserve(&mut v, capacity)?;
    Ok(v)
}

/// A vector of `len` zero bytes, or `OutOfMemory`.
pub fn try_zeroed(len: usize) -> Result<Vec<u8>, OutOfMemory> {
    let mut v = try_vec(len)?;
    v.resize(len, 0);
    Ok(v)
}

/// Appends `value` to `v`, or gives it back inside the error when memory is short.
pub fn try_push<T>(v: &mut Vec<T>, value: T) -> Result<(), OutOfMemory> {
    try_reserve(v, 1)?;
    v.push(value);
    Ok(())
}

/// Appends `bytes` to `v`, or fails leaving `v` as it was.
pub fn try_extend(v: &mut Vec<u8>, bytes: &[u8]) -> Result<(), OutOfMemory> {
    try_reserve(v, bytes.len())?;
    v.extend_from_slice(bytes);
    Ok(())
}

/// `value` in a new box, or `OutOfMemory` (the value is dropped).
pub fn try_box<T>(value: T) -> Result<Box<T>, OutOfMemory> {
    let layout = Layout::new::<T>();
    if layout.size() == 0 {
        return Ok(Box::new(value));
    }
    charge(layout.size())?;
    // SAFETY: the layout has a non-zero size.
    let p = unsafe { alloc(layout) } as *mut T;
    if p.is_null() {
        return Err(OutOfMemory);
    }
    // SAFETY: `p` is a fresh allocation with T's layout; writing the value
    // initializes it, and Box takes ownership of exactly that allocation (the
    // global allocator is the one Box frees with).
    unsafe {
        p.write(value);
        Ok(Box::from_raw(p))
    }
}

/// `value` in a new `Arc`, or `OutOfMemory` (the value is dropped).
///
/// `Arc` has no fallible constructor on stable Rust, so this proves the
/// allocation will succeed first: with interrupts off (nothing else can
/// allocate on this single CPU), it asks the heap whether a block of the
/// layout `Arc` uses (two counters, then the value, `ArcInner` being
/// `repr(C)`) can be had, then lets `Arc::new` take it. (A probe through the
/// global allocator would not do: the compiler may remove an allocation
/// that is freed unused.)
pub fn try_arc<T>(value: T) -> Result<Arc<T>, OutOfMemory> {
    let (layout, _) = Layout::new::<[usize; 2]>()
        .extend(Layout::new::<T>())
        .map_err(|_| OutOfMemory)?;
    let layout = layout.pad_to_align();
    charge(layout.size())?;
    let was = crate::arch::intr_disable();
    let result = if can_allocate(layout) {
        Ok(Arc::new(value))
    } else {
        Err(OutOfMemory)
    };
    crate::arch::intr_restore(was);
    result
}

/// Whether the heap can give a block of `layout` now.
#[cfg(not(test))]
fn can_allocate(layout: Layout) -> bool {
    super::heap::can_allocate(layout)
}

/// The host tests use the host's allocator, which does not run out.
#[cfg(test)]
fn can_allocate(_layout: Layout) -> bool {
    true
}
