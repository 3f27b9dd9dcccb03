//! `open-missing`: opening a file that does not exist returns -1.
#![no_std]
#![no_main]

use ulib::{check, sys};

ulib::test_main!(body);

fn body(_args: &[&str]) {
    check!(sys::open(c"no-such-file") == -1, "open \"no-such-file\"");
}
