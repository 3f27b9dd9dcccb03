//! `swap-file`: file-backed pages under memory pressure: a 4 MiB file, twice
//! the 2 MiB user pool, is mapped and read through (clean pages are dropped
//! and read again), then every other page is rewritten (dirty pages go back
//! to the file on eviction), and the mapping and, after munmap, the file
//! itself must show exactly the rewritten pages (Pintos `swap-file`).
#![no_std]
#![no_main]

use ulib::vmtest::{LARGE_SEED, LARGE_SIZE, MAP_ADDR, PAGE, fill_pattern, pattern_mismatch};
use ulib::{check, fail, msg, sys};

ulib::test_main!(body);

const NEW_SEED: u64 = 0x2e3;

/// Whether page `i` of the file holds what it should: rewritten pages (even
/// ones, once `rewritten`) the new contents, the others the original ones.
fn page_ok(page: &[u8], i: usize, rewritten: bool) -> bool {
    if rewritten && i.is_multiple_of(2) {
        pattern_mismatch(page, NEW_SEED, (i * PAGE) as u64).is_none()
    } else {
        pattern_mismatch(page, LARGE_SEED, (i * PAGE) as u64).is_none()
    }
}

fn check_mapping(map: &[u8], rewritten: bool) {
    for i in 0..LARGE_SIZE / PAGE {
        if !page_ok(&map[i * PAGE..(i + 1) * PAGE], i, rewritten) {
            fail!("page {i} of the mapping is wrong");
        }
    }
}

fn body(_args: &[&str]) {
    let fd = sys::open(c"large.txt");
    check!(fd > 1, "open \"large.txt\"");
    let size = sys::filesize(fd);
    check!(size == LARGE_SIZE as i32, "\"large.txt\" is 4 MiB");
    let map = sys::mmap(MAP_ADDR as *mut u8, LARGE_SIZE, true, fd, 0);
    check!(map as usize == MAP_ADDR, "mmap \"large.txt\"");
    // SAFETY: the mapping covers LARGE_SIZE writable bytes until munmap.
    let mapped = unsafe { core::slice::from_raw_parts_mut(map, LARGE_SIZE) };

    msg!("read every page");
    check_mapping(mapped, false);
    msg!("read every page again");
    check_mapping(mapped, false);
    msg!("rewrite every other page");
    for i in (0..LARGE_SIZE / PAGE).step_by(2) {
        fill_pattern(
            &mut mapped[i * PAGE..(i + 1) * PAGE],
            NEW_SEED,
            (i * PAGE) as u64,
        );
    }
    msg!("read every page");
    check_mapping(mapped, true);
    msg!("munmap \"large.txt\"");
    sys::munmap(map);

    let mut page = [0u8; PAGE];
    for i in 0..LARGE_SIZE / PAGE {
        if sys::read(fd, &mut page) != PAGE as i32 || !page_ok(&page, i, true) {
            fail!("page {i} of the file is wrong after munmap");
        }
    }
    msg!("the file holds the rewritten pages");
    sys::close(fd);
}
