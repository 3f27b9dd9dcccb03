//! `mmap-huge`: a mapping far larger than memory (256 GiB of `sample.txt`,
//! above everything else) succeeds and costs only the pages touched: its
//! first page holds the file, a page 100 GiB in reads as zeros (past the
//! file's end). After munmap, a mapping that would reach past the user
//! address space is refused with NULL, and a normal mapping still works.
#![no_std]
#![no_main]

use ulib::sample::{self, SAMPLE};
use ulib::vmtest::PAGE;
use ulib::{check, sys};

ulib::test_main!(body);

/// Above the stack and every other page of the program.
const HUGE_AT: usize = 0x1_0000_0000;
const HUGE_LEN: usize = 256 << 30;
/// Past the end of the user address space (512 GiB) from `HUGE_AT`.
const TOO_LONG: usize = 600 << 30;

fn body(_args: &[&str]) {
    let fd = sys::open(c"sample.txt");
    check!(fd > 1, "open \"sample.txt\"");
    let huge = sys::mmap(HUGE_AT as *mut u8, HUGE_LEN, false, fd, 0);
    check!(huge as usize == HUGE_AT, "mmap of 256 GiB succeeds");
    // SAFETY: the mapping covers HUGE_LEN bytes at HUGE_AT until munmap.
    let first = unsafe { core::slice::from_raw_parts(huge, PAGE) };
    check!(
        sample::matches(&first[..SAMPLE.len()]),
        "its first page holds the file"
    );
    // SAFETY: as above; the page lies inside the mapping.
    let far = unsafe { core::slice::from_raw_parts(huge.add(100 << 30), PAGE) };
    check!(
        far.iter().all(|&b| b == 0),
        "a page 100 GiB in reads as zeros"
    );
    sys::munmap(huge);
    let too_long = sys::mmap(HUGE_AT as *mut u8, TOO_LONG, false, fd, 0);
    check!(
        too_long.is_null(),
        "mmap past the end of user space is refused"
    );
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
