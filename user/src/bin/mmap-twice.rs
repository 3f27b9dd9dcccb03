//! `mmap-twice`: one file opened twice and mapped through each descriptor at
//! two addresses, and the same descriptor mapped once more: every mapping
//! holds the file (Pintos `mmap-twice`).
#![no_std]
#![no_main]

use ulib::sample::{self, SAMPLE};
use ulib::vmtest::{MAP_ADDR, MAP_ADDR2, PAGE};
use ulib::{check, sys};

ulib::test_main!(body);

fn holds_sample(addr: *const u8) -> bool {
    // SAFETY: the caller passes a live mapping of at least the sample's length.
    sample::matches(unsafe { core::slice::from_raw_parts(addr, SAMPLE.len()) })
}

fn body(_args: &[&str]) {
    let fd1 = sys::open(c"sample.txt");
    check!(fd1 > 1, "open \"sample.txt\" once");
    let fd2 = sys::open(c"sample.txt");
    check!(fd2 > 1 && fd2 != fd1, "open \"sample.txt\" again");
    let map1 = sys::mmap(MAP_ADDR as *mut u8, PAGE, false, fd1, 0);
    check!(map1 as usize == MAP_ADDR, "mmap the first descriptor");
    let map2 = sys::mmap(MAP_ADDR2 as *mut u8, PAGE, false, fd2, 0);
    check!(map2 as usize == MAP_ADDR2, "mmap the second descriptor");
    let third = MAP_ADDR2 + 16 * PAGE;
    let map3 = sys::mmap(third as *mut u8, PAGE, false, fd2, 0);
    check!(map3 as usize == third, "mmap the second descriptor again");
    check!(
        holds_sample(map1) && holds_sample(map2) && holds_sample(map3),
        "every mapping holds the file"
    );
    sys::munmap(map3);
    sys::munmap(map1);
    check!(holds_sample(map2), "the others survive munmap of one");
    sys::munmap(map2);
    sys::close(fd1);
    sys::close(fd2);
}
