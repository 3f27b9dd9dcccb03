//! `read-normal`: reads `sample.txt` and checks every byte.
#![no_std]
#![no_main]

use ulib::sample::{self, SAMPLE};
use ulib::{check, fail, msg, sys};

ulib::test_main!(body);

fn body(_args: &[&str]) {
    let fd = sys::open(c"sample.txt");
    check!(fd > 1, "open \"sample.txt\"");
    let mut buf = [0u8; 1024];
    let n = sys::read(fd, &mut buf);
    check!(n == SAMPLE.len() as i32, "read \"sample.txt\"");
    if !sample::matches(&buf[..n as usize]) {
        fail!("contents of \"sample.txt\" differ");
    }
    msg!("verified contents of \"sample.txt\"");
}
