//! `read-bad-fd`: reading from descriptors that are not open must fail or kill.
#![no_std]
#![no_main]

#[path = "../shared/bad_fd.rs"]
mod bad_fd;

use ulib::{fail, sys};

ulib::test_main!(body);

fn body(_args: &[&str]) {
    let mut buf = [0u8; 16];
    for fd in bad_fd::BAD_FDS {
        let n = sys::read(fd, &mut buf);
        if n != -1 {
            fail!("read(fd {fd}) returned {n}");
        }
    }
}
