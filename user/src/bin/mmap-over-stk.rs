//! `mmap-over-stk`: mmap over the stack fails and the process goes on: at the
//! page `rsp` is in and at the top stack page (Pintos `mmap-over-stk`).
#![no_std]
#![no_main]

use abi::layout::USER_STACK;
use ulib::vmtest::PAGE;
use ulib::vmtest::guest::rsp;
use ulib::{check, sys};

ulib::test_main!(body);

fn body(_args: &[&str]) {
    let fd = sys::open(c"sample.txt");
    check!(fd > 1, "open \"sample.txt\"");
    let here = rsp() & !(PAGE - 1);
    let map = sys::mmap(here as *mut u8, PAGE, true, fd, 0);
    check!(map.is_null(), "mmap over the current stack page fails");
    let top = USER_STACK as usize - PAGE;
    let map = sys::mmap(top as *mut u8, PAGE, true, fd, 0);
    check!(map.is_null(), "mmap over the top stack page fails");
    sys::close(fd);
}
