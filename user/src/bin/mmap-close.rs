//! `mmap-close`: closing the file descriptor does not unmap: the mapping
//! still reads the file afterwards (Pintos `mmap-close`).
#![no_std]
#![no_main]

use ulib::sample::{self, SAMPLE};
use ulib::vmtest::PAGE;
use ulib::vmtest::guest::map_sample;
use ulib::{check, msg, sys};

ulib::test_main!(body);

fn body(_args: &[&str]) {
    let (fd, map) = map_sample(false);
    msg!("close \"sample.txt\"");
    sys::close(fd);
    // SAFETY: the mapping covers one page at MAP_ADDR until munmap.
    let page = unsafe { core::slice::from_raw_parts(map, PAGE) };
    check!(
        sample::matches(&page[..SAMPLE.len()]),
        "the mapping still holds the file"
    );
    msg!("munmap \"sample.txt\"");
    sys::munmap(map);
}
