//! `write-boundary`: writes from a buffer that spans a page boundary.
#![no_std]
#![no_main]

use ulib::sample::SAMPLE;
use ulib::{boundary, check, sys};

ulib::test_main!(body);

fn body(_args: &[&str]) {
    let fd = sys::open(c"sample.txt");
    check!(fd > 1, "open \"sample.txt\"");
    let len = SAMPLE.len();
    let buf = boundary::boundary_area().wrapping_sub(len / 2);
    // SAFETY: `buf .. buf + len` lies inside the two-page boundary area.
    unsafe { core::ptr::copy_nonoverlapping(SAMPLE.as_ptr(), buf, len) };
    let n = sys::write_raw(fd, buf, len);
    check!(n == len as i32, "write() returned {n}");
}
