//! `exec-bad-ptr`: `exec` with an unmapped command-line pointer must kill the process.
#![no_std]
#![no_main]

use ulib::{fail, sys};

ulib::test_main!(body);

fn body(_args: &[&str]) {
    let r = sys::exec_raw(0x2010_1234 as *const u8);
    fail!("exec(0x20101234) returned {r}");
}
