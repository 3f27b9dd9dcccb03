//! `fork-multiple`: forks four children one after another, each with its own status.
#![no_std]
#![no_main]

use ulib::{msg, sys};

ulib::test_main!(body);

fn body(_args: &[&str]) {
    for i in 0..4 {
        let pid = sys::fork(c"child");
        if pid == 0 {
            msg!("child run");
            sys::exit(4 + i);
        }
        let status = sys::wait(pid);
        msg!("Parent: child exit status is {status}");
    }
}
