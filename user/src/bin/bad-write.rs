//! `bad-write`: writing address 0 must kill the process with exit(-1).
#![no_std]
#![no_main]

use ulib::{fail, fault};

ulib::test_main!(body);

fn body(_args: &[&str]) {
    fault::write_u32(0, 42);
    fail!("wrote to NULL");
}
