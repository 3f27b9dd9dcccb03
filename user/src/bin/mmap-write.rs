//! `mmap-write`: text written through a writable mapping reaches the file by
//! munmap, and `read` sees it (Pintos `mmap-write`).
#![no_std]
#![no_main]

use ulib::sample::{self, SAMPLE};
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
    // SAFETY: the mapping covers one writable page at MAP_ADDR until munmap.
    unsafe { core::ptr::copy_nonoverlapping(SAMPLE.as_ptr(), map, SAMPLE.len()) };
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
