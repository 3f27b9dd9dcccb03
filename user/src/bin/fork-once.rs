//! `fork-once`: forks one child that exits with 81 and waits for it.
#![no_std]
#![no_main]

use ulib::{msg, sys};

ulib::test_main!(body);

fn body(_args: &[&str]) {
    let pid = sys::fork(c"child");
    if pid == 0 {
        msg!("child run");
        sys::exit(81);
    }
    let status = sys::wait(pid);
    msg!("Parent: child exit status is {status}");
}
