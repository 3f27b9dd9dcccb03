//! Buffers that straddle a page boundary, for the "boundary" tests (Pintos
//! `tests/userprog/boundary.c`), and the first unmapped page after the
//! program image, for strings that run off the end of mapped memory.

use core::cell::UnsafeCell;

use abi::layout::PAGE_SIZE;

const PAGE: usize = PAGE_SIZE as usize;

/// Two page-aligned pages of zero-initialized (bss) memory.
#[repr(C, align(4096))]
struct TwoPages(UnsafeCell<[u8; 2 * PAGE]>);

// SAFETY: user processes are single-threaded; the area is only reached through
// raw pointers handed out below.
unsafe impl Sync for TwoPages {}

static AREA: TwoPages = TwoPages(UnsafeCell::new([0; 2 * PAGE]));

/// Pointer to the page boundary in the middle of a two-page static area: the
/// `PAGE` bytes before it and the `PAGE` bytes after it are usable.
pub fn boundary_area() -> *mut u8 {
    AREA.0.get().cast::<u8>().wrapping_add(PAGE)
}

/// Copies `s` plus a NUL into the boundary area so that it straddles the page
/// boundary (half before, half after) and returns a pointer to the copy.
pub fn copy_across_boundary(s: &[u8]) -> *const u8 {
    let len = s.len().min(PAGE - 1);
    let start = boundary_area().wrapping_sub(len / 2);
    // SAFETY: `start .. start + len + 1` lies within AREA because
    // `len / 2 <= PAGE` and `len + 1 - len / 2 <= PAGE`.
    unsafe {
        core::ptr::copy_nonoverlapping(s.as_ptr(), start, len);
        *start.add(len) = 0;
    }
    start
}

unsafe extern "C" {
    /// First page-aligned address after the program image (defined in `link.ld`).
    static __ulib_image_end: u8;
}

/// The first address after the program image, page-aligned. The page below it
/// is mapped (the last page of the image); the page at it is not.
pub fn image_end() -> *mut u8 {
    // Only the address of the linker-defined symbol is taken, never its value.
    (&raw const __ulib_image_end).cast_mut()
}

/// Fills the last `n` bytes before [`image_end`] with `fill` (no NUL) and
/// returns a pointer to them: a string that runs into an unmapped page.
pub fn unterminated_at_image_end(n: usize, fill: u8) -> *const u8 {
    let n = n.min(PAGE);
    let start = image_end().wrapping_sub(n);
    // SAFETY: the last page of the image is mapped and writable (it holds the
    // end of .bss) and `n <= PAGE`.
    unsafe { core::ptr::write_bytes(start, fill, n) };
    start
}
