//! `multi-child-fd`: a child started with fork and exec closes the descriptor
//! it inherited; the parent's descriptor must stay usable.
#![no_std]
#![no_main]

use ulib::sample::{self, SAMPLE};
use ulib::{cformat, check, fail, msg, sys};

ulib::test_main!(body);

fn body(_args: &[&str]) {
    let fd = sys::open(c"sample.txt");
    check!(fd > 1, "open \"sample.txt\"");
    let pid = sys::fork(c"child-close");
    if pid == 0 {
        let cmd = cformat!("child-close {fd}");
        sys::exec(cmd.as_cstr());
        fail!("exec(\"child-close {fd}\") returned");
    }
    msg!("wait(exec()) = {}", sys::wait(pid));
    let mut buf = [0u8; 1024];
    let n = sys::read(fd, &mut buf);
    if n != SAMPLE.len() as i32 || !sample::matches(&buf[..n as usize]) {
        fail!("read() after the child closed its copy returned {n} bytes, not the sample");
    }
    msg!("verified contents of \"sample.txt\"");
}
