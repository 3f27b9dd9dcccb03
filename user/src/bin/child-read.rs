//! `child-read FD`: reads the first 20 bytes of `sample.txt` through a new
//! descriptor and the rest through FD, inherited across fork and exec.
#![no_std]
#![no_main]

use ulib::sample::{self, SAMPLE};
use ulib::{check, fail, msg, sys};

ulib::entry!(main);

fn main(args: &[&str]) -> i32 {
    ulib::entry::set_program_name("child-read");
    msg!("begin");
    let Some(inherited) = args.get(1).and_then(|a| a.parse::<i32>().ok()) else {
        fail!("bad command-line arguments");
    };
    let fd = sys::open(c"sample.txt");
    check!(fd > 1 && fd != inherited, "open \"sample.txt\"");
    let len = SAMPLE.len();
    let mut buf = [0u8; 1024];
    check!(
        sys::read(fd, &mut buf[..20]) == 20,
        "read \"sample.txt\" first 20 bytes"
    );
    check!(
        sys::read(inherited, &mut buf[20..len]) == (len - 20) as i32,
        "read \"sample.txt\" remainders"
    );
    if !sample::matches(&buf[..len]) {
        fail!("expected text differs from actual");
    }
    msg!("Child success");
    sys::close(inherited);
    sys::close(fd);
    msg!("end");
    0
}
