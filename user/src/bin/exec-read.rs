//! `exec-read`: a descriptor survives fork and exec with its position: the
//! child program `child-read` continues reading where this process stopped.
#![no_std]
#![no_main]

use ulib::sample::{self, SAMPLE};
use ulib::{boundary, cformat, check, fail, msg, sys};

ulib::test_main!(body);

fn body(_args: &[&str]) {
    let fd = sys::open(c"sample.txt");
    check!(fd > 1, "open \"sample.txt\"");
    let len = SAMPLE.len();
    let buf = boundary::boundary_area().wrapping_sub(len / 2);
    check!(
        sys::read_raw(fd, buf, 20) == 20,
        "read \"sample.txt\" first 20 bytes"
    );

    let pid = sys::fork(c"child-read");
    if pid == 0 {
        let cmd = cformat!("child-read {fd}");
        sys::exec(cmd.as_cstr());
        fail!("exec(\"child-read {fd}\") returned");
    }
    sys::wait(pid);
    let n = sys::read_raw(fd, buf.wrapping_add(20), len - 20);
    if n != (len - 20) as i32 {
        fail!("read() returned {n} instead of {}", len - 20);
    }
    // SAFETY: `buf .. buf + len` lies inside the two-page boundary area.
    if !sample::matches(unsafe { core::slice::from_raw_parts(buf, len) }) {
        fail!("expected text differs from actual");
    }
    msg!("Parent success");
    sys::close(fd);
}
