//! `open-normal`: opens an existing file.
#![no_std]
#![no_main]

use ulib::{check, sys};

ulib::test_main!(body);

fn body(_args: &[&str]) {
    check!(sys::open(c"sample.txt") > 1, "open \"sample.txt\"");
}
