//! `child-rox DEPTH`: its own executable must be write-protected while it
//! runs; with DEPTH > 1 it first runs `child-rox DEPTH-1` and checks again.
#![no_std]
#![no_main]

use ulib::{cformat, check, fail, msg, sys};

ulib::entry!(main);

fn try_write(fd: i32) {
    let mut byte = [0u8; 1];
    sys::seek(fd, 0);
    if sys::read(fd, &mut byte) != 1 {
        fail!("read \"child-rox\"");
    }
    sys::seek(fd, 0);
    check!(sys::write(fd, &byte) <= 0, "try to write \"child-rox\"");
}

fn main(args: &[&str]) -> i32 {
    ulib::entry::set_program_name("child-rox");
    msg!("begin");
    let Some(depth) = args.get(1).and_then(|a| a.parse::<u32>().ok()) else {
        fail!("bad command-line arguments");
    };
    let fd = sys::open(c"child-rox");
    if fd < 2 {
        fail!("open \"child-rox\"");
    }
    try_write(fd);
    if depth > 1 {
        let cmd = cformat!("child-rox {}", depth - 1);
        let pid = sys::fork(c"child-rox");
        if pid == 0 {
            sys::exec(cmd.as_cstr());
            fail!("exec(\"child-rox {}\") returned", depth - 1);
        }
        let status = sys::wait(pid);
        if status != 12 {
            fail!("wait(exec(\"child-rox {}\")) returned {status}", depth - 1);
        }
    }
    try_write(fd);
    msg!("end");
    12
}
