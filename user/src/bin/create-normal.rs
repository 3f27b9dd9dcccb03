//! `create-normal`: creates an ordinary empty file.
#![no_std]
#![no_main]

use ulib::{check, sys};

ulib::test_main!(body);

fn body(_args: &[&str]) {
    check!(sys::create(c"quux.dat", 0), "create quux.dat");
}
