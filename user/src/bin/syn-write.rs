//! `syn-write`: ten children write their own 512-byte chunk of one shared
//! file at once; then the parent reads the whole file back and checks it
//! (Pintos `syn-write`). Child `i` exits with `i`.
#![no_std]
#![no_main]

use ulib::fstest::{SYN_WRITE_CHILDREN, SYN_WRITE_CHUNK, SYN_WRITE_NAME, syn_write_byte};
use ulib::{cformat, check, fail, sys};

ulib::test_main!(body);

const SIZE: usize = SYN_WRITE_CHUNK * SYN_WRITE_CHILDREN;

fn body(_args: &[&str]) {
    let name = cformat!("{SYN_WRITE_NAME}");
    check!(
        sys::create(name.as_cstr(), SIZE as u32),
        "create \"{SYN_WRITE_NAME}\""
    );
    let mut pids = [0; SYN_WRITE_CHILDREN];
    for (i, pid) in pids.iter_mut().enumerate() {
        *pid = sys::fork(c"child-syn-wrt");
        if *pid == 0 {
            sys::exec(cformat!("child-syn-wrt {i}").as_cstr());
            fail!("exec \"child-syn-wrt {i}\" returned");
        }
        check!(
            *pid > 0,
            "exec child {} of {SYN_WRITE_CHILDREN}: \"child-syn-wrt {i}\"",
            i + 1
        );
    }
    for (i, &pid) in pids.iter().enumerate() {
        let status = sys::wait(pid);
        check!(
            status == i as i32,
            "wait for child {} of {SYN_WRITE_CHILDREN} returned {status} (expected {i})",
            i + 1
        );
    }
    let fd = sys::open(name.as_cstr());
    check!(fd > 1, "open \"{SYN_WRITE_NAME}\"");
    let mut buf = [0u8; SIZE];
    check!(
        sys::read(fd, &mut buf) == SIZE as i32,
        "read \"{SYN_WRITE_NAME}\""
    );
    if let Some(i) = (0..SIZE).find(|&i| buf[i] != syn_write_byte(i as u64)) {
        fail!("byte {i} of \"{SYN_WRITE_NAME}\" differs from what its child wrote");
    }
    ulib::msg!("\"{SYN_WRITE_NAME}\" holds every child's chunk");
    sys::close(fd);
}
