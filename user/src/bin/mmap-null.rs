//! `mmap-null`: mmap at address 0 fails and the process goes on (Pintos
//! `mmap-null`).
#![no_std]
#![no_main]

use ulib::vmtest::PAGE;
use ulib::{check, sys};

ulib::test_main!(body);

fn body(_args: &[&str]) {
    let fd = sys::open(c"sample.txt");
    check!(fd > 1, "open \"sample.txt\"");
    let map = sys::mmap(core::ptr::null_mut(), PAGE, false, fd, 0);
    check!(map.is_null(), "mmap at address 0 fails");
    sys::close(fd);
}
