//! `mmap-clean`: pages only read through a mapping are clean and are never
//! written back: the file is changed with `write` while mapped, and after
//! munmap the change is still there (Pintos `mmap-clean`).
#![no_std]
#![no_main]

use ulib::sample::{self, SAMPLE};
use ulib::vmtest::guest::map_sample;
use ulib::{check, msg, sys};

ulib::test_main!(body);

const OVERWRITE: &[u8] = b"Now is the time for all good...";

fn body(_args: &[&str]) {
    let (fd, map) = map_sample(true);
    // SAFETY: the mapping covers one page at MAP_ADDR until munmap.
    let page = unsafe { core::slice::from_raw_parts(map, SAMPLE.len()) };
    check!(sample::matches(page), "the mapping holds the file");
    let n = sys::write(fd, OVERWRITE);
    check!(n == OVERWRITE.len() as i32, "write \"sample.txt\"");
    msg!("munmap \"sample.txt\"");
    sys::munmap(map);
    msg!("seek \"sample.txt\"");
    sys::seek(fd, 0);
    let mut buf = [0u8; 1024];
    let buf = &mut buf[..SAMPLE.len()];
    let n = sys::read(fd, buf);
    check!(n == SAMPLE.len() as i32, "read \"sample.txt\"");
    let (head, tail) = buf.split_at(OVERWRITE.len());
    check!(
        head == OVERWRITE && tail == &SAMPLE[OVERWRITE.len()..],
        "file change was retained after munmap"
    );
    sys::close(fd);
}
