//! `wait-simple`: waits for a forked child that execs `child-simple`.
#![no_std]
#![no_main]

use ulib::{fail, msg, sys};

ulib::test_main!(body);

fn body(_args: &[&str]) {
    let pid = sys::fork(c"child-simple");
    if pid == 0 {
        sys::exec(c"child-simple");
        fail!("exec(\"child-simple\") returned");
    }
    msg!("wait(exec()) = {}", sys::wait(pid));
}
