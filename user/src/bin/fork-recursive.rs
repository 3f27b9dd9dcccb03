//! `fork-recursive`: each child forks the next, five deep; every status
//! travels back up the chain (the deepest exits with 100, each parent with one more).
#![no_std]
#![no_main]

use ulib::{msg, sys};

ulib::test_main!(body);

const DEPTH: i32 = 5;

fn descend(level: i32) -> i32 {
    let pid = sys::fork(c"child");
    if pid == 0 {
        msg!("child {level} run");
        if level == DEPTH {
            sys::exit(100);
        }
        let status = descend(level + 1);
        sys::exit(status + 1);
    }
    let status = sys::wait(pid);
    msg!("child {level} exit status is {status}");
    status
}

fn body(_args: &[&str]) {
    descend(1);
}
