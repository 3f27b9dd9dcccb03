//! `exec-missing`: executing a program that does not exist fails; the process
//! ends with exit(-1), by the kernel or by this program if `exec` returns.
#![no_std]
#![no_main]

use ulib::{msg, sys};

ulib::test_main!(body);

fn body(_args: &[&str]) {
    let r = sys::exec(c"no-such-file");
    msg!("exec(\"no-such-file\") returned {r}");
    sys::exit(-1);
}
