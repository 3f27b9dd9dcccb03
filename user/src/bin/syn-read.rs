//! `syn-read`: ten children read one shared 1 KiB file at once, one byte per
//! `read`, and check every byte (Pintos `syn-read`). Child `i` exits with `i`.
#![no_std]
#![no_main]

use ulib::fstest::{SYN_READ_CHILDREN, SYN_READ_NAME, SYN_READ_SEED, SYN_READ_SIZE};
use ulib::vmtest::fill_pattern;
use ulib::{cformat, check, fail, sys};

ulib::test_main!(body);

fn body(_args: &[&str]) {
    let name = cformat!("{SYN_READ_NAME}");
    let mut buf = [0u8; SYN_READ_SIZE];
    fill_pattern(&mut buf, SYN_READ_SEED, 0);
    check!(
        sys::create(name.as_cstr(), SYN_READ_SIZE as u32),
        "create \"{SYN_READ_NAME}\""
    );
    let fd = sys::open(name.as_cstr());
    check!(fd > 1, "open \"{SYN_READ_NAME}\"");
    check!(
        sys::write(fd, &buf) == SYN_READ_SIZE as i32,
        "write \"{SYN_READ_NAME}\""
    );
    sys::close(fd);
    ulib::msg!("close \"{SYN_READ_NAME}\"");

    let mut pids = [0; SYN_READ_CHILDREN];
    for (i, pid) in pids.iter_mut().enumerate() {
        *pid = sys::fork(c"child-syn-read");
        if *pid == 0 {
            sys::exec(cformat!("child-syn-read {i}").as_cstr());
            fail!("exec \"child-syn-read {i}\" returned");
        }
        check!(
            *pid > 0,
            "exec child {} of {SYN_READ_CHILDREN}: \"child-syn-read {i}\"",
            i + 1
        );
    }
    for (i, &pid) in pids.iter().enumerate() {
        let status = sys::wait(pid);
        check!(
            status == i as i32,
            "wait for child {} of {SYN_READ_CHILDREN} returned {status} (expected {i})",
            i + 1
        );
    }
}
