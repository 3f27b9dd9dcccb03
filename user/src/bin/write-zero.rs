//! `write-zero`: a write of 0 bytes returns 0.
#![no_std]
#![no_main]

use ulib::{check, sys};

ulib::test_main!(body);

fn body(_args: &[&str]) {
    let fd = sys::open(c"sample.txt");
    check!(fd > 1, "open \"sample.txt\"");
    let buf = [123u8; 1];
    let n = sys::write_raw(fd, buf.as_ptr(), 0);
    check!(n == 0, "write() of 0 bytes returned {n}");
}
