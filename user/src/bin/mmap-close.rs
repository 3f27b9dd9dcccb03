//! `mmap-close`: closing the file descriptor does not unmap: the mapping
//! still reads the file afterwards (Pintos `mmap-close`).
#![no_std]
#![no_main]

use ulib::sample::{self, SAMPLE};
use ulib::vmtest::{MAP_ADDR, PAGE};
use ulib::{check, msg, sys};

ulib::test_main!(body);

fn body(_args: &[&str]) {
    let fd = sys::open(c"sample.txt");
    check!(fd > 1, "open \"sample.txt\"");
    let map = sys::mmap(MAP_ADDR as *mut u8, PAGE, false, fd, 0);
    check!(map as usize == MAP_ADDR, "mmap \"sample.txt\"");
    msg!("close \"sample.txt\"");
    sys::close(fd);
    // SAFETY: the mapping covers one page at MAP_ADDR until munmap.
    let page = unsafe { core::slice::from_raw_parts(map, PAGE) };
    check!(
        sample::matches(&page[..SAMPLE.len()]),
        "the mapping still holds the file"
    );
    msg!("munmap \"sample.txt\"");
    sys::munmap(map);
}
