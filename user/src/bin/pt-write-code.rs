//! `pt-write-code`: a write to the program's own code must kill the process
//! with exit(-1) (Pintos `pt-write-code`).
#![no_std]
#![no_main]

use ulib::{fail, fault};

ulib::test_main!(body);

fn body(_args: &[&str]) {
    fault::write_u32(body as *const () as u64, 0);
    fail!("writing the code segment succeeded");
}
