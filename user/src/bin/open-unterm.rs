//! `open-unterm`: a file name whose bytes run into an unmapped page without a
//! NUL must kill the process: the kernel has to check every page of a string.
#![no_std]
#![no_main]

use ulib::{boundary, fail, msg, sys};

ulib::test_main!(body);

fn body(_args: &[&str]) {
    // The boundary area keeps .bss (and so the writable last image page) alive.
    core::hint::black_box(boundary::boundary_area());
    let name = boundary::unterminated_at_image_end(8, b'a');
    msg!("open a name that runs into an unmapped page");
    let fd = sys::open_raw(name);
    fail!("open() returned {fd}");
}
