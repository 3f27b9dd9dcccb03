//! `bad-read2`: reading the first kernel address (USER_LIMIT) must kill the process.
#![no_std]
#![no_main]

use ulib::{abi, fail, fault};

ulib::test_main!(body);

fn body(_args: &[&str]) {
    let v = fault::read_u32(abi::layout::USER_LIMIT);
    fail!("read {v} from USER_LIMIT");
}
