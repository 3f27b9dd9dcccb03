//! `mmap-off`: a mapping at a nonzero (page-aligned) file offset shows the
//! file from that offset, and what is written through it lands at that
//! offset, leaving the rest of the file alone.
#![no_std]
#![no_main]

use ulib::vmtest::{MAP_ADDR, PAGE, fill_pattern, pattern_mismatch};
use ulib::{check, fail, msg, sys};

ulib::test_main!(body);

const FILE_SEED: u64 = 0x0ff5;
const NEW_SEED: u64 = 0x0ff6;

fn body(_args: &[&str]) {
    check!(
        sys::create(c"offset.dat", 3 * PAGE as u32),
        "create \"offset.dat\""
    );
    let fd = sys::open(c"offset.dat");
    check!(fd > 1, "open \"offset.dat\"");
    let mut page = [0u8; PAGE];
    for i in 0..3 {
        fill_pattern(&mut page, FILE_SEED, (i * PAGE) as u64);
        if sys::write(fd, &page) != PAGE as i32 {
            fail!("write page {i}");
        }
    }
    let map = sys::mmap(MAP_ADDR as *mut u8, 2 * PAGE, true, fd, PAGE as i64);
    check!(
        map as usize == MAP_ADDR,
        "mmap two pages of \"offset.dat\" from offset 4096"
    );
    msg!("close \"offset.dat\"");
    sys::close(fd);

    // SAFETY: the mapping covers two writable pages at MAP_ADDR until munmap.
    let mapped = unsafe { core::slice::from_raw_parts_mut(map, 2 * PAGE) };
    check!(
        pattern_mismatch(mapped, FILE_SEED, PAGE as u64).is_none(),
        "the mapping shows the file from offset 4096"
    );
    msg!("overwrite the first mapped page");
    fill_pattern(&mut mapped[..PAGE], NEW_SEED, 0);
    msg!("munmap \"offset.dat\"");
    sys::munmap(map);

    let fd = sys::open(c"offset.dat");
    check!(fd > 1, "open \"offset.dat\" again");
    let mut ok = [false; 3];
    for (i, good) in ok.iter_mut().enumerate() {
        if sys::read(fd, &mut page) != PAGE as i32 {
            fail!("read page {i}");
        }
        *good = if i == 1 {
            pattern_mismatch(&page, NEW_SEED, 0).is_none()
        } else {
            pattern_mismatch(&page, FILE_SEED, (i * PAGE) as u64).is_none()
        };
    }
    check!(
        ok == [true; 3],
        "only the page at offset 4096 changed in the file"
    );
    sys::close(fd);
}
