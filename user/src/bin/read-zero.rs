//! `read-zero`: a read of 0 bytes returns 0 and leaves the buffer alone.
#![no_std]
#![no_main]

use ulib::{check, fail, sys};

ulib::test_main!(body);

fn body(_args: &[&str]) {
    let fd = sys::open(c"sample.txt");
    check!(fd > 1, "open \"sample.txt\"");
    let mut buf = [123u8; 1];
    let n = sys::read_raw(fd, buf.as_mut_ptr(), 0);
    check!(n == 0, "read() of 0 bytes returned {n}");
    if buf[0] != 123 {
        fail!("read() of 0 bytes modified the buffer");
    }
}
