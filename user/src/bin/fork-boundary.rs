//! `fork-boundary`: `fork` with a name that spans a page boundary is valid.
#![no_std]
#![no_main]

use ulib::{boundary, check, msg, sys};

ulib::test_main!(body);

fn body(_args: &[&str]) {
    let pid = sys::fork_raw(boundary::copy_across_boundary(b"child-simple"));
    if pid == 0 {
        msg!("child run");
        sys::exit(54);
    }
    let status = sys::wait(pid);
    check!(pid > 0, "fork");
    check!(status == 54, "wait");
}
