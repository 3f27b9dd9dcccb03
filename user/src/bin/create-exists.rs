//! `create-exists`: creating a file that exists must fail.
#![no_std]
#![no_main]

use ulib::{check, sys};

ulib::test_main!(body);

fn body(_args: &[&str]) {
    check!(sys::create(c"quux.dat", 0), "create quux.dat");
    check!(sys::create(c"warble.dat", 0), "create warble.dat");
    check!(!sys::create(c"quux.dat", 0), "try to re-create quux.dat");
    check!(sys::create(c"baffle.dat", 0), "create baffle.dat");
    check!(
        !sys::create(c"warble.dat", 0),
        "try to re-create warble.dat"
    );
}
