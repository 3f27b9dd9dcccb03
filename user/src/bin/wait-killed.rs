//! `wait-killed`: waiting for a child the kernel killed returns -1.
#![no_std]
#![no_main]

use ulib::{fail, msg, sys};

ulib::test_main!(body);

fn body(_args: &[&str]) {
    let pid = sys::fork(c"child-bad");
    if pid == 0 {
        sys::exec(c"child-bad");
        fail!("exec(\"child-bad\") returned");
    }
    msg!("wait(exec()) = {}", sys::wait(pid));
}
