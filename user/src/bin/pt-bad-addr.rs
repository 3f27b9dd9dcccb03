//! `pt-bad-addr`: a write to an address no segment, mapping or stack covers
//! must kill the process with exit(-1) and nothing else (Pintos `pt-bad-addr`).
#![no_std]
#![no_main]

use ulib::{fail, fault};

ulib::test_main!(body);

fn body(_args: &[&str]) {
    fault::write_u32(0x0400_0000, 42);
    fail!("should have exited with -1");
}
