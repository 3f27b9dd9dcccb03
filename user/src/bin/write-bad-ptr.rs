//! `write-bad-ptr`: writing from an unmapped buffer must kill the process.
#![no_std]
#![no_main]

use ulib::{check, fail, sys};

ulib::test_main!(body);

fn body(_args: &[&str]) {
    let fd = sys::open(c"sample.txt");
    check!(fd > 1, "open \"sample.txt\"");
    let n = sys::write_raw(fd, 0x2010_1234 as *const u8, 100);
    fail!("write() from 0x20101234 returned {n}");
}
