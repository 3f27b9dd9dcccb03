//! `mmap-zero`: mmap of length 0 fails and the process goes on (Pintos
//! `mmap-zero-len`).
#![no_std]
#![no_main]

use ulib::vmtest::{MAP_ADDR, guest::resident};
use ulib::{check, sys};

ulib::test_main!(body);

fn body(_args: &[&str]) {
    let fd = sys::open(c"sample.txt");
    check!(fd > 1, "open \"sample.txt\"");
    let map = sys::mmap(MAP_ADDR as *mut u8, 0, false, fd, 0);
    check!(map.is_null(), "mmap of length 0 fails");
    check!(!resident(MAP_ADDR), "nothing is mapped there");
    sys::close(fd);
}
