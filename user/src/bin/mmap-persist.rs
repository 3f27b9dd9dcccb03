//! `mmap-persist`: data written through mappings reaches the disk: one file
//! is written through a mapping and unmapped, another is left mapped at exit.
//! Both are two and a half pages long, so the last page of each mapping has a
//! tail past the end of the file, which is filled too but must never be
//! written: the file created right after the first one keeps its contents.
//! The host test opens the disk image after the run and checks every byte.
#![no_std]
#![no_main]

use ulib::vmtest::{
    MAP_ADDR, MAP_ADDR2, PAGE, PERSIST_EXIT_SEED, PERSIST_NEIGHBOR_SEED, PERSIST_SEED,
    PERSIST_SIZE, fill_pattern, pages, pattern_mismatch,
};
use ulib::{check, fail, msg, sys};

ulib::test_main!(body);

/// Maps `fd` writable at `addr`, fills the file's bytes with the contents
/// named by `seed` and the tail of the last page with 0xee.
fn fill_mapping(fd: i32, addr: usize, seed: u64) -> *mut u8 {
    let len = pages(PERSIST_SIZE) * PAGE;
    let map = sys::mmap(addr as *mut u8, PERSIST_SIZE, true, fd, 0);
    if map as usize != addr {
        fail!("mmap at {addr:#x}");
    }
    // SAFETY: the mapping covers the file's pages, `len` bytes, until munmap.
    let all = unsafe { core::slice::from_raw_parts_mut(map, len) };
    let (data, tail) = all.split_at_mut(PERSIST_SIZE);
    if tail.iter().any(|&b| b != 0) {
        fail!("the tail past the end of the file is not zero");
    }
    fill_pattern(data, seed, 0);
    tail.fill(0xee);
    map
}

fn body(_args: &[&str]) {
    check!(
        sys::create(c"persist.dat", PERSIST_SIZE as u32),
        "create \"persist.dat\""
    );
    check!(
        sys::create(c"neighbor.dat", PAGE as u32),
        "create \"neighbor.dat\""
    );
    let neighbor = sys::open(c"neighbor.dat");
    let mut page = [0u8; PAGE];
    fill_pattern(&mut page, PERSIST_NEIGHBOR_SEED, 0);
    check!(
        neighbor > 1 && sys::write(neighbor, &page) == PAGE as i32,
        "fill \"neighbor.dat\""
    );

    let fd = sys::open(c"persist.dat");
    check!(fd > 1, "open \"persist.dat\"");
    let map = fill_mapping(fd, MAP_ADDR, PERSIST_SEED);
    msg!("wrote \"persist.dat\" through a mapping");
    sys::munmap(map);
    msg!("munmap \"persist.dat\"");
    let mut data = [0u8; PERSIST_SIZE];
    let n = sys::read(fd, &mut data);
    check!(
        n == PERSIST_SIZE as i32 && pattern_mismatch(&data, PERSIST_SEED, 0).is_none(),
        "read \"persist.dat\" back"
    );
    sys::close(fd);
    sys::seek(neighbor, 0);
    let n = sys::read(neighbor, &mut page);
    check!(
        n == PAGE as i32 && pattern_mismatch(&page, PERSIST_NEIGHBOR_SEED, 0).is_none(),
        "\"neighbor.dat\" is intact"
    );
    sys::close(neighbor);

    check!(
        sys::create(c"persist-ex.dat", PERSIST_SIZE as u32),
        "create \"persist-ex.dat\""
    );
    let fd = sys::open(c"persist-ex.dat");
    check!(fd > 1, "open \"persist-ex.dat\"");
    fill_mapping(fd, MAP_ADDR2, PERSIST_EXIT_SEED);
    msg!("wrote \"persist-ex.dat\" through a mapping left in place at exit");
}
