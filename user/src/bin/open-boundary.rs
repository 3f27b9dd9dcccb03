//! `open-boundary`: a file name that spans a page boundary is valid.
#![no_std]
#![no_main]

use ulib::{boundary, check, sys};

ulib::test_main!(body);

fn body(_args: &[&str]) {
    let name = boundary::copy_across_boundary(b"sample.txt");
    check!(sys::open_raw(name) > 1, "open \"sample.txt\"");
}
