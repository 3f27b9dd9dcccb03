//! `child-bad`: starts, then makes a bad access that must kill it.
#![no_std]
#![no_main]

use ulib::{fail, fault, msg};

ulib::entry!(main);

fn main(_args: &[&str]) -> i32 {
    ulib::entry::set_program_name("child-bad");
    msg!("begin");
    let v = fault::read_u32(0x2010_1234);
    fail!("read {v} from an unmapped address");
}
