//! `mmap-huge`: a mapping far larger than the kernel can describe (256 GiB
//! of `sample.txt`, above everything else) is refused with NULL, the kernel
//! lives on, and a normal mapping still works afterwards.
#![no_std]
#![no_main]

use ulib::sample::{self, SAMPLE};
use ulib::vmtest::PAGE;
use ulib::{check, sys};

ulib::test_main!(body);

/// Above the stack and every other page of the program.
const HUGE_AT: usize = 0x1_0000_0000;
const HUGE_LEN: usize = 256 << 30;

fn body(_args: &[&str]) {
    let fd = sys::open(c"sample.txt");
    check!(fd > 1, "open \"sample.txt\"");
    let huge = sys::mmap(HUGE_AT as *mut u8, HUGE_LEN, false, fd, 0);
    check!(huge.is_null(), "mmap of 256 GiB is refused");
    let map = sys::mmap(HUGE_AT as *mut u8, PAGE, false, fd, 0);
    check!(
        map as usize == HUGE_AT,
        "mmap of one page there still works"
    );
    // SAFETY: the mapping covers one page at HUGE_AT until munmap.
    let page = unsafe { core::slice::from_raw_parts(map, PAGE) };
    check!(sample::matches(&page[..SAMPLE.len()]), "it holds the file");
    sys::munmap(map);
}
