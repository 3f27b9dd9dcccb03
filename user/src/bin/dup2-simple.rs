//! `dup2-simple`: with stdin closed, `open` takes fd 0 (the lowest free
//! descriptor, as on Linux); a duplicate made with `dup2` shares the position
//! of the original and stays open when the original is closed.
#![no_std]
#![no_main]

use ulib::sample::{self, SAMPLE};
use ulib::{boundary, check, fail, msg, sys};

ulib::test_main!(body);

fn body(_args: &[&str]) {
    sys::close(0);
    let fd = sys::open(c"sample.txt");
    check!(
        fd == 0,
        "open \"sample.txt\" takes fd 0, the lowest free one"
    );
    let len = SAMPLE.len();
    let buf = boundary::boundary_area().wrapping_sub(len / 2);
    if sys::read_raw(fd, buf, 10) != 10 {
        fail!("read() of the first 10 bytes failed");
    }
    let dup = sys::dup2(fd, 100);
    check!(dup == 100, "dup2(fd, 100) = {dup}");

    let n = sys::read_raw(100, buf.wrapping_add(10), len - 10);
    // SAFETY: `buf .. buf + len` lies inside the two-page boundary area.
    let text = unsafe { core::slice::from_raw_parts(buf, len) };
    if n != (len - 10) as i32 || !sample::matches(text) {
        fail!("read() through fd 100 did not continue where fd {fd} stopped");
    }
    msg!("read the rest through fd 100");

    sys::close(fd);
    sys::seek(100, 0);
    let mut head = [0u8; 10];
    if sys::read(100, &mut head) != 10 || head[..] != SAMPLE[..10] {
        fail!("fd 100 stopped working when fd {fd} was closed");
    }
    msg!("fd 100 works after closing the original");
}
