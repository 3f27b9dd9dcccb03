//! `bad-write2`: writing the kernel image must kill the process.
#![no_std]
#![no_main]

use ulib::{fail, fault};

ulib::test_main!(body);

fn body(_args: &[&str]) {
    fault::write_u32(0xffff_ffff_8020_0000, 42);
    fail!("wrote to the kernel image");
}
