//! `mmap-misalign`: mmap fails, and the process goes on, for an address or a
//! file offset that is not page-aligned (Pintos `mmap-misalign` and
//! `mmap-bad-off`); the aligned call then succeeds.
#![no_std]
#![no_main]

use ulib::vmtest::{MAP_ADDR, PAGE};
use ulib::{check, sys};

ulib::test_main!(body);

fn body(_args: &[&str]) {
    let fd = sys::open(c"sample.txt");
    check!(fd > 1, "open \"sample.txt\"");
    let map = sys::mmap((MAP_ADDR + 0x234) as *mut u8, PAGE, false, fd, 0);
    check!(map.is_null(), "mmap at a misaligned address fails");
    let map = sys::mmap(MAP_ADDR as *mut u8, PAGE, false, fd, 0x234);
    check!(map.is_null(), "mmap at a misaligned offset fails");
    let map = sys::mmap(MAP_ADDR as *mut u8, PAGE, false, fd, 0);
    check!(map as usize == MAP_ADDR, "mmap aligned succeeds");
    sys::munmap(map);
    sys::close(fd);
}
