//! `exit`: a program that ends with `exit(57)`.
#![no_std]
#![no_main]

use ulib::sys;

ulib::test_main!(body);

fn body(_args: &[&str]) {
    sys::exit(57)
}
