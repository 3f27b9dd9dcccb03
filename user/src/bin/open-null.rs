//! `open-null`: `open(NULL)` must kill the process with exit(-1).
#![no_std]
#![no_main]

use ulib::{fail, sys};

ulib::test_main!(body);

fn body(_args: &[&str]) {
    let fd = sys::open_raw(core::ptr::null());
    fail!("open(NULL) returned {fd}");
}
