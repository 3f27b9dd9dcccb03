//! `mmap-bad-fd`: mmap fails, and the process goes on, for the console
//! descriptors 0 and 1, descriptors never opened, a closed one and negative
//! ones (Pintos `mmap-bad-fd`).
#![no_std]
#![no_main]

use ulib::vmtest::{MAP_ADDR, PAGE};
use ulib::{check, sys};

ulib::test_main!(body);

fn fails(fd: i32) -> bool {
    sys::mmap(MAP_ADDR as *mut u8, PAGE, false, fd, 0).is_null()
}

fn body(_args: &[&str]) {
    check!(fails(0), "mmap of fd 0 (console input) fails");
    check!(fails(1), "mmap of fd 1 (console output) fails");
    check!(
        fails(5) && fails(0x5678) && fails(i32::MAX),
        "mmap of fds never opened fails"
    );
    check!(fails(-1) && fails(i32::MIN), "mmap of negative fds fails");
    let fd = sys::open(c"sample.txt");
    check!(fd > 1, "open \"sample.txt\"");
    sys::close(fd);
    check!(fails(fd), "mmap of a closed fd fails");
}
