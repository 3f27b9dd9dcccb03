//! `write-bad-fd`: writing to descriptors that are not open must fail or kill.
#![no_std]
#![no_main]

#[path = "../shared/bad_fd.rs"]
mod bad_fd;

use ulib::{fail, sys};

ulib::test_main!(body);

fn body(_args: &[&str]) {
    let buf = [b'x'; 16];
    for fd in bad_fd::BAD_FDS {
        let n = sys::write(fd, &buf);
        if n != -1 {
            fail!("write(fd {fd}) returned {n}");
        }
    }
}
