//! `pt-bad-read`: `read` into a buffer 4 KiB or more below `rsp`, in a page
//! that does not exist, is not stack growth: the kernel faults on the user
//! buffer and must kill the process with exit(-1) (Pintos `pt-bad-read`).
#![no_std]
#![no_main]

use ulib::vmtest::guest::absent_below_rsp;
use ulib::{check, fail, sys};

ulib::test_main!(body);

fn body(_args: &[&str]) {
    let fd = sys::open(c"sample.txt");
    check!(fd > 1, "open \"sample.txt\"");
    let target = absent_below_rsp();
    let n = sys::read_raw(fd, target as *mut u8, 1);
    fail!("survived reading data into a bad address (read returned {n})");
}
