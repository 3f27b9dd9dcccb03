//! `write-stdin`: writing to standard input must fail or kill the process.
#![no_std]
#![no_main]

use ulib::{check, sys};

ulib::test_main!(body);

fn body(_args: &[&str]) {
    let buf = [b'x'; 16];
    let n = sys::write(0, &buf);
    check!(n == -1, "write(STDIN) returned {n}");
}
