//! `mmap-unmap`: after munmap the range is gone: reading it kills the process
//! with exit(-1) (Pintos `mmap-unmap`).
#![no_std]
#![no_main]

use ulib::sample::{self, SAMPLE};
use ulib::vmtest::MAP_ADDR;
use ulib::vmtest::guest::map_sample;
use ulib::{check, fail, fault, msg, sys};

ulib::test_main!(body);

fn body(_args: &[&str]) {
    let (_fd, map) = map_sample(false);
    // SAFETY: the mapping covers one page at MAP_ADDR until munmap.
    let page = unsafe { core::slice::from_raw_parts(map, SAMPLE.len()) };
    check!(sample::matches(page), "the mapping holds the file");
    msg!("munmap \"sample.txt\"");
    sys::munmap(map);
    let v = fault::read_u32(MAP_ADDR as u64);
    fail!("unmapped memory is readable ({v:#x})");
}
