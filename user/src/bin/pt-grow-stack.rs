//! `pt-grow-stack`: a 4 KiB object on the stack makes the stack grow by a page;
//! it is filled with ARC4 output and checksummed (Pintos `pt-grow-stack`).
#![no_std]
#![no_main]

use ulib::msg;
use ulib::vmtest::{Arc4, KEY, cksum};

ulib::test_main!(body);

fn body(_args: &[&str]) {
    let mut stack_obj = [0u8; 4096];
    let obj = core::hint::black_box(&mut stack_obj);
    Arc4::new(KEY).crypt(obj);
    msg!("cksum: {}", cksum(obj));
}
