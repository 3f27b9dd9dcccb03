//! `mmap-overlap`: a mapping may not overlap another one, whether it starts
//! at the same address or runs into it from below; a mapping right after it
//! is fine (Pintos `mmap-overlap`).
#![no_std]
#![no_main]

use ulib::vmtest::guest::map_sample;
use ulib::vmtest::{MAP_ADDR, PAGE};
use ulib::{check, sys};

ulib::test_main!(body);

fn body(_args: &[&str]) {
    let (fd, map) = map_sample(false);
    let again = sys::mmap(MAP_ADDR as *mut u8, PAGE, false, fd, 0);
    check!(again.is_null(), "a second mmap at the same address fails");
    let below = sys::mmap((MAP_ADDR - PAGE) as *mut u8, 2 * PAGE, false, fd, 0);
    check!(
        below.is_null(),
        "an mmap running into the mapping from below fails"
    );
    let wide = sys::mmap((MAP_ADDR - 4 * PAGE) as *mut u8, 16 * PAGE, false, fd, 0);
    check!(wide.is_null(), "an mmap covering the mapping fails");
    let next = sys::mmap((MAP_ADDR + PAGE) as *mut u8, PAGE, false, fd, 0);
    check!(
        next as usize == MAP_ADDR + PAGE,
        "an mmap right after the mapping succeeds"
    );
    sys::munmap(next);
    sys::munmap(map);
    sys::close(fd);
}
