//! `mmap-remove`: removing a mapped file does not unmap it, and its sectors
//! are not reused while it is mapped: a new file written meanwhile does not
//! show through the mapping (Pintos `mmap-remove`).
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
    check!(sys::remove(c"sample.txt"), "remove \"sample.txt\"");
    let gone = sys::open(c"sample.txt");
    check!(gone < 0, "\"sample.txt\" can no longer be opened");

    check!(
        sys::create(c"another", 4 * PAGE as u32),
        "create \"another\""
    );
    let other = sys::open(c"another");
    check!(other > 1, "open \"another\"");
    let junk = [0xeeu8; PAGE];
    let mut written = 0;
    for _ in 0..4 {
        written += sys::write(other, &junk);
    }
    check!(written == 4 * PAGE as i32, "fill \"another\"");
    sys::close(other);

    // SAFETY: the mapping covers one page at MAP_ADDR until munmap.
    let page = unsafe { core::slice::from_raw_parts(map, PAGE) };
    check!(
        sample::matches(&page[..SAMPLE.len()]),
        "the mapping still holds the removed file"
    );
    msg!("munmap \"sample.txt\"");
    sys::munmap(map);
}
