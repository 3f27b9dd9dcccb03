//! `open-bad-ptr`: `open` with an unmapped name pointer must kill the process.
#![no_std]
#![no_main]

use ulib::{fail, sys};

ulib::test_main!(body);

fn body(_args: &[&str]) {
    let fd = sys::open_raw(0x2010_1234 as *const u8);
    fail!("open(0x20101234) returned {fd}");
}
