//! `child-simple`: prints `(child-simple) run` and exits with 81.
#![no_std]
#![no_main]

use ulib::msg;

ulib::entry!(main);

fn main(_args: &[&str]) -> i32 {
    ulib::entry::set_program_name("child-simple");
    msg!("run");
    81
}
