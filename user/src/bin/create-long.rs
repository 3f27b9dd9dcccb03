//! `create-long`: a 511-byte file name must be refused.
#![no_std]
#![no_main]

use ulib::{msg, sys};

ulib::test_main!(body);

fn body(_args: &[&str]) {
    let mut name = [b'x'; 512];
    name[511] = 0;
    msg!(
        "create(\"x\" * 511): {}",
        sys::create_raw(name.as_ptr(), 0) as i32
    );
}
