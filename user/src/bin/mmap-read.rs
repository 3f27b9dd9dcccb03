//! `mmap-read`: a read-only mapping of `sample.txt` holds the file, the rest
//! of its page reads as zeros, and munmap succeeds (Pintos `mmap-read`).
#![no_std]
#![no_main]

use ulib::sample::{self, SAMPLE};
use ulib::vmtest::PAGE;
use ulib::vmtest::guest::map_sample;
use ulib::{check, msg, sys};

ulib::test_main!(body);

fn body(_args: &[&str]) {
    let (fd, map) = map_sample(false);
    // SAFETY: the mapping covers one page at MAP_ADDR until munmap.
    let page = unsafe { core::slice::from_raw_parts(map, PAGE) };
    check!(
        sample::matches(&page[..SAMPLE.len()]),
        "the mapping holds the file"
    );
    check!(
        page[SAMPLE.len()..].iter().all(|&b| b == 0),
        "the rest of the page reads as zeros"
    );
    msg!("munmap \"sample.txt\"");
    sys::munmap(map);
    sys::close(fd);
}
