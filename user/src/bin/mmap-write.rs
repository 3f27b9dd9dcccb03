//! `mmap-write`: text written through a writable mapping reaches the file by
//! munmap, and `read` sees it (Pintos `mmap-write`).
#![no_std]
#![no_main]

use ulib::sample::{self, SAMPLE};
use ulib::vmtest::guest::write_sample_mapping;
use ulib::{check, msg, sys};

ulib::test_main!(body);

fn body(_args: &[&str]) {
    let (fd, map) = write_sample_mapping();
    msg!("munmap \"mapped.txt\"");
    sys::munmap(map);
    let mut buf = [0u8; 1024];
    let buf = &mut buf[..SAMPLE.len()];
    let n = sys::read(fd, buf);
    check!(n == SAMPLE.len() as i32, "read \"mapped.txt\"");
    check!(
        sample::matches(buf),
        "compare read data against written data"
    );
    sys::close(fd);
}
