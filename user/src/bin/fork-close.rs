//! `fork-close`: a child closing an inherited descriptor leaves the parent's open.
#![no_std]
#![no_main]

use ulib::sample::{self, SAMPLE};
use ulib::{check, fail, msg, sys};

ulib::test_main!(body);

fn body(_args: &[&str]) {
    let fd = sys::open(c"sample.txt");
    check!(fd > 1, "open \"sample.txt\"");
    let pid = sys::fork(c"child");
    if pid == 0 {
        msg!("child run");
        sys::close(fd);
        return;
    }
    sys::wait(pid);
    let mut buf = [0u8; 1024];
    let n = sys::read(fd, &mut buf);
    if n != SAMPLE.len() as i32 {
        fail!("read() returned {n} instead of {}", SAMPLE.len());
    }
    if !sample::matches(&buf[..n as usize]) {
        fail!("expected text differs from actual");
    }
    msg!("Parent success");
    sys::close(fd);
}
