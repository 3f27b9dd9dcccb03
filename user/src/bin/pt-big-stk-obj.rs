//! `pt-big-stk-obj`: a 64 KiB object on the stack makes the stack grow by
//! sixteen pages; it is filled with ARC4 output and checksummed (Pintos
//! `pt-big-stk-obj`).
#![no_std]
#![no_main]

use ulib::msg;
use ulib::vmtest::{Arc4, KEY, cksum};

ulib::test_main!(body);

fn body(_args: &[&str]) {
    let mut stk_obj = [0u8; 65536];
    let obj = core::hint::black_box(&mut stk_obj);
    Arc4::new(KEY).crypt(obj);
    msg!("cksum: {}", cksum(obj));
}
