//! `create-bad-ptr`: `create` with an unmapped name pointer must kill the process.
#![no_std]
#![no_main]

use ulib::{fail, sys};

ulib::test_main!(body);

fn body(_args: &[&str]) {
    let ok = sys::create_raw(0x2010_1234 as *const u8, 0);
    fail!("create(0x20101234) returned {}", ok as i32);
}
