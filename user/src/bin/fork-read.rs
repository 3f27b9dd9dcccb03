//! `fork-read`: parent and child each read the rest of a file opened before
//! the fork, from their own copy of the position and into their own memory.
#![no_std]
#![no_main]

use ulib::sample::{self, SAMPLE};
use ulib::{boundary, check, fail, msg, sys};

ulib::test_main!(body);

fn read_rest(fd: i32, buf: *mut u8) {
    let len = SAMPLE.len();
    let n = sys::read_raw(fd, buf.wrapping_add(20), len - 20);
    if n != (len - 20) as i32 {
        fail!("read() returned {n} instead of {}", len - 20);
    }
    // SAFETY: `buf .. buf + len` lies inside the two-page boundary area.
    if !sample::matches(unsafe { core::slice::from_raw_parts(buf, len) }) {
        fail!("expected text differs from actual");
    }
}

fn body(_args: &[&str]) {
    let fd = sys::open(c"sample.txt");
    check!(fd > 1, "open \"sample.txt\"");
    let buf = boundary::boundary_area().wrapping_sub(SAMPLE.len() / 2);
    check!(sys::read_raw(fd, buf, 20) == 20, "read the first 20 bytes");

    let pid = sys::fork(c"child");
    if pid == 0 {
        msg!("child run");
        read_rest(fd, buf);
        let magic = b"pintos is funny!";
        // SAFETY: the boundary area has room for 16 bytes at `buf`.
        unsafe { core::ptr::copy_nonoverlapping(magic.as_ptr(), buf, magic.len()) };
        // SAFETY: as above; the bytes were just written.
        let text = unsafe { core::slice::from_raw_parts(buf, magic.len()) };
        msg!("Child: {}", core::str::from_utf8(text).unwrap_or("?"));
        sys::close(fd);
        return;
    }
    sys::wait(pid);
    read_rest(fd, buf);
    msg!("Parent success");
    sys::close(fd);
}
