//! `bad-jump`: jumping to address 0 must kill the process with exit(-1).
#![no_std]
#![no_main]

use ulib::fault;

ulib::test_main!(body);

fn body(_args: &[&str]) {
    fault::jump(0)
}
