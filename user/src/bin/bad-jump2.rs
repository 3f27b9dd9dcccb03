//! `bad-jump2`: jumping into the kernel image must kill the process.
#![no_std]
#![no_main]

use ulib::fault;

ulib::test_main!(body);

fn body(_args: &[&str]) {
    fault::jump(0xffff_ffff_8020_0000)
}
