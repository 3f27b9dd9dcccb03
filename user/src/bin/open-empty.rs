//! `open-empty`: opening the empty name returns -1.
#![no_std]
#![no_main]

use ulib::{check, sys};

ulib::test_main!(body);

fn body(_args: &[&str]) {
    let fd = sys::open(c"");
    check!(fd == -1, "open(\"\") returned {fd}");
}
