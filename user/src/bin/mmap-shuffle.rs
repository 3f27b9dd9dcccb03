//! `mmap-shuffle`: a 3 MiB file, larger than the 2 MiB user pool, is mapped,
//! filled with known contents and its 1 KiB blocks are shuffled several
//! times, so that dirty file pages are written back on eviction and read in
//! again; the checksum after each round, and of the file read back after
//! munmap, must match the ones the host computes.
#![no_std]
#![no_main]

use ulib::vmtest::cksum::Cksum;
use ulib::vmtest::{MAP_ADDR, MMAP_SHUFFLE_SEED, MMAP_SHUFFLE_SIZE, PAGE, shuffle_test};
use ulib::{check, fail, msg, sys};

ulib::test_main!(body);

fn body(_args: &[&str]) {
    check!(
        sys::create(c"shuffle.dat", MMAP_SHUFFLE_SIZE as u32),
        "create \"shuffle.dat\""
    );
    let fd = sys::open(c"shuffle.dat");
    check!(fd > 1, "open \"shuffle.dat\"");
    let map = sys::mmap(MAP_ADDR as *mut u8, MMAP_SHUFFLE_SIZE, true, fd, 0);
    check!(map as usize == MAP_ADDR, "mmap \"shuffle.dat\"");
    // SAFETY: the mapping covers MMAP_SHUFFLE_SIZE writable bytes until munmap.
    let buf = unsafe { core::slice::from_raw_parts_mut(map, MMAP_SHUFFLE_SIZE) };
    shuffle_test(buf, MMAP_SHUFFLE_SEED, |round, sum| {
        if round == 0 {
            msg!("init: cksum={sum}");
        } else {
            msg!("shuffle {round}: cksum={sum}");
        }
    });
    msg!("munmap \"shuffle.dat\"");
    sys::munmap(map);
    let mut sum = Cksum::new();
    let mut page = [0u8; PAGE];
    for i in 0..MMAP_SHUFFLE_SIZE / PAGE {
        if sys::read(fd, &mut page) != PAGE as i32 {
            fail!("read page {i} of \"shuffle.dat\"");
        }
        sum.update(&page);
    }
    msg!("file after munmap: cksum={}", sum.finish());
    sys::close(fd);
}
