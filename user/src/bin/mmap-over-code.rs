//! `mmap-over-code`: mmap over the program's code fails and the process goes
//! on: at the image's first page and at every page of `.text` this function
//! lies in (Pintos `mmap-over-code`).
#![no_std]
#![no_main]

use abi::layout::USER_LINK_BASE;
use ulib::vmtest::PAGE;
use ulib::{check, sys};

ulib::test_main!(body);

fn body(_args: &[&str]) {
    let fd = sys::open(c"sample.txt");
    check!(fd > 1, "open \"sample.txt\"");
    let first = sys::mmap(USER_LINK_BASE as *mut u8, PAGE, false, fd, 0);
    check!(
        first.is_null(),
        "mmap over the first page of the image fails"
    );
    let code = (body as *const () as usize) & !(PAGE - 1);
    let map = sys::mmap(code as *mut u8, PAGE, false, fd, 0);
    check!(map.is_null(), "mmap over this function's code fails");
    let from_below = sys::mmap((code - PAGE) as *mut u8, 2 * PAGE, false, fd, 0);
    check!(
        from_below.is_null(),
        "mmap running into the code from below fails"
    );
    sys::close(fd);
}
