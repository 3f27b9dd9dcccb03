//! `create-null`: `create(NULL)` must kill the process with exit(-1).
#![no_std]
#![no_main]

use ulib::{fail, sys};

ulib::test_main!(body);

fn body(_args: &[&str]) {
    let ok = sys::create_raw(core::ptr::null(), 0);
    fail!("create(NULL) returned {}", ok as i32);
}
