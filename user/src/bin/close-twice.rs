//! `close-twice`: closing a descriptor twice must fail quietly or kill the process.
#![no_std]
#![no_main]

use ulib::{check, msg, sys};

ulib::test_main!(body);

fn body(_args: &[&str]) {
    let fd = sys::open(c"sample.txt");
    check!(fd > 1, "open \"sample.txt\"");
    msg!("close \"sample.txt\"");
    sys::close(fd);
    msg!("close \"sample.txt\" again");
    sys::close(fd);
}
