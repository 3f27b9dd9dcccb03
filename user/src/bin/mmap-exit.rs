//! `mmap-exit`: a child maps a file, writes through the mapping and exits
//! without munmap; exit must write the dirty page back, so the parent reads
//! the text from the file (Pintos `mmap-exit`).
#![no_std]
#![no_main]

use ulib::sample::{self, SAMPLE};
use ulib::{check, fail, sys};

ulib::test_main!(body);

fn body(_args: &[&str]) {
    let pid = sys::fork(c"child-mm-wrt");
    if pid == 0 {
        sys::exec(c"child-mm-wrt");
        fail!("exec \"child-mm-wrt\" returned");
    }
    let status = sys::wait(pid);
    check!(status == 0, "wait for child (should return 0)");
    let fd = sys::open(c"mapped.txt");
    check!(fd > 1, "open \"mapped.txt\" for verification");
    let mut buf = [0u8; 1024];
    let buf = &mut buf[..SAMPLE.len()];
    let n = sys::read(fd, buf);
    check!(
        n == SAMPLE.len() as i32 && sample::matches(buf),
        "verified contents of \"mapped.txt\""
    );
    sys::close(fd);
}
