//! `write-normal`: writes `sample.txt` over itself.
#![no_std]
#![no_main]

use ulib::sample::SAMPLE;
use ulib::{check, sys};

ulib::test_main!(body);

fn body(_args: &[&str]) {
    let fd = sys::open(c"sample.txt");
    check!(fd > 1, "open \"sample.txt\"");
    let n = sys::write(fd, SAMPLE);
    check!(n == SAMPLE.len() as i32, "write() returned {n}");
}
