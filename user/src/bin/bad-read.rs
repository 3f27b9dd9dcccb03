//! `bad-read`: reading address 0 must kill the process with exit(-1).
#![no_std]
#![no_main]

use ulib::{fail, fault};

ulib::test_main!(body);

fn body(_args: &[&str]) {
    let v = fault::read_u32(0);
    fail!("read {v} from NULL");
}
