//! `child-close FD`: closes the descriptor it inherited across fork and exec.
#![no_std]
#![no_main]

use ulib::{fail, msg, sys};

ulib::entry!(main);

fn main(args: &[&str]) -> i32 {
    ulib::entry::set_program_name("child-close");
    msg!("begin");
    let Some(fd) = args.get(1).and_then(|a| a.parse::<i32>().ok()) else {
        fail!("bad command-line arguments");
    };
    sys::close(fd);
    msg!("end");
    0
}
