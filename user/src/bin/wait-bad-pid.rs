//! `wait-bad-pid`: waiting for a pid that is no child must fail (or kill).
#![no_std]
#![no_main]

use ulib::{check, sys};

ulib::test_main!(body);

fn body(_args: &[&str]) {
    let r = sys::wait(0x0c02_0301);
    check!(r == -1, "wait(0x0c020301) = {r}");
}
