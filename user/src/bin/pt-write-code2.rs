//! `pt-write-code2`: `read` into the program's own code must kill the process
//! with exit(-1): the kernel may not write user pages the process cannot
//! write (Pintos `pt-write-code2`).
#![no_std]
#![no_main]

use ulib::{check, fail, sys};

ulib::test_main!(body);

fn body(_args: &[&str]) {
    let fd = sys::open(c"sample.txt");
    check!(fd > 1, "open \"sample.txt\"");
    let n = sys::read_raw(fd, body as *const () as *mut u8, 1);
    fail!("survived reading data into the code segment (read returned {n})");
}
