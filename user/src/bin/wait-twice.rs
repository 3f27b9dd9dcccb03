//! `wait-twice`: a second wait for the same child returns -1.
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
    msg!("wait(exec()) = {}", sys::wait(pid));
}
