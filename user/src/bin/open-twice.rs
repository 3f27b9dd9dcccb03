//! `open-twice`: opening the same file twice gives two different descriptors.
#![no_std]
#![no_main]

use ulib::{check, fail, sys};

ulib::test_main!(body);

fn body(_args: &[&str]) {
    let a = sys::open(c"sample.txt");
    check!(a > 1, "open \"sample.txt\" once");
    let b = sys::open(c"sample.txt");
    check!(b > 1, "open \"sample.txt\" again");
    if a == b {
        fail!("open() returned {a} both times");
    }
}
