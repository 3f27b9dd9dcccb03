//! `rox-simple`: a running program cannot write its own executable.
#![no_std]
#![no_main]

use ulib::{check, sys};

ulib::test_main!(body);

fn body(_args: &[&str]) {
    let fd = sys::open(c"rox-simple");
    check!(fd > 1, "open \"rox-simple\"");
    let mut byte = [0u8; 1];
    check!(sys::read(fd, &mut byte) == 1, "read \"rox-simple\"");
    sys::seek(fd, 0);
    check!(sys::write(fd, &byte) <= 0, "try to write \"rox-simple\"");
}
