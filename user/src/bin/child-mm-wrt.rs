//! `child-mm-wrt`: creates `mapped.txt`, maps it, copies the sample text into
//! the mapping and exits without munmap (Pintos `child-mm-wrt`, the child of
//! `mmap-exit`).
#![no_std]
#![no_main]

use ulib::sample::SAMPLE;
use ulib::vmtest::{MAP_ADDR, PAGE};
use ulib::{check, msg, sys};

ulib::test_main!(body);

fn body(_args: &[&str]) {
    check!(
        sys::create(c"mapped.txt", SAMPLE.len() as u32),
        "create \"mapped.txt\""
    );
    let fd = sys::open(c"mapped.txt");
    check!(fd > 1, "open \"mapped.txt\"");
    let map = sys::mmap(MAP_ADDR as *mut u8, PAGE, true, fd, 0);
    check!(map as usize == MAP_ADDR, "mmap \"mapped.txt\"");
    msg!("write sample text through the mapping");
    // SAFETY: the mapping covers one writable page at MAP_ADDR.
    unsafe { core::ptr::copy_nonoverlapping(SAMPLE.as_ptr(), map, SAMPLE.len()) };
}
