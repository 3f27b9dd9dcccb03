//! `read-stdout`: reading from standard output must fail or kill the process.
#![no_std]
#![no_main]

use ulib::{check, sys};

ulib::test_main!(body);

fn body(_args: &[&str]) {
    let mut buf = [0u8; 16];
    let n = sys::read(1, &mut buf);
    check!(n == -1, "read(STDOUT) returned {n}");
}
