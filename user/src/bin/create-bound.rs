//! `create-bound`: a file name that spans a page boundary is valid.
#![no_std]
#![no_main]

use ulib::{boundary, msg, sys};

ulib::test_main!(body);

fn body(_args: &[&str]) {
    let name = boundary::copy_across_boundary(b"quux.dat");
    msg!("create(\"quux.dat\"): {}", sys::create_raw(name, 0) as i32);
}
