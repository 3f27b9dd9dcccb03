//! `mmap-ro`: a mapping made read-only can be read but not written: the write
//! kills the process with exit(-1) (Pintos `mmap-ro`).
#![no_std]
#![no_main]

use ulib::sample::{self, SAMPLE};
use ulib::vmtest::{MAP_ADDR, PAGE};
use ulib::{check, fail, fault, sys};

ulib::test_main!(body);

fn body(_args: &[&str]) {
    let fd = sys::open(c"sample.txt");
    check!(fd > 1, "open \"sample.txt\"");
    let map = sys::mmap(MAP_ADDR as *mut u8, PAGE, false, fd, 0);
    check!(map as usize == MAP_ADDR, "mmap \"sample.txt\" read-only");
    // SAFETY: the mapping covers one page at MAP_ADDR until munmap.
    let page = unsafe { core::slice::from_raw_parts(map, SAMPLE.len()) };
    check!(sample::matches(page), "the mapping holds the file");
    fault::write_u32(MAP_ADDR as u64, 0);
    fail!("wrote to a read-only mapping");
}
