//! `read-boundary`: reads into a buffer that spans a page boundary.
#![no_std]
#![no_main]

use ulib::sample::{self, SAMPLE};
use ulib::{boundary, check, fail, msg, sys};

ulib::test_main!(body);

fn body(_args: &[&str]) {
    let fd = sys::open(c"sample.txt");
    check!(fd > 1, "open \"sample.txt\"");
    let len = SAMPLE.len();
    let buf = boundary::boundary_area().wrapping_sub(len / 2);
    let n = sys::read_raw(fd, buf, len);
    check!(
        n == len as i32,
        "read \"sample.txt\" across a page boundary"
    );
    // SAFETY: `buf .. buf + len` lies inside the two-page boundary area.
    let got = unsafe { core::slice::from_raw_parts(buf, len) };
    if !sample::matches(got) {
        fail!("contents of \"sample.txt\" differ");
    }
    msg!("verified contents of \"sample.txt\"");
}
