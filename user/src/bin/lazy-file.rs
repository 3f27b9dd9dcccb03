//! `lazy-file`: file-backed pages are loaded only when touched, both the
//! executable's own `.data` and an mmap of a file. Through `get_phys_addr`,
//! no page is resident at first; touching a page makes exactly that page
//! resident, with the right contents; munmap drops the mapping's pages.
#![no_std]
#![no_main]

use ulib::vmtest::guest::resident;
use ulib::vmtest::{MAP_ADDR, PAGE, PageArray, fill_pattern, pattern_mismatch};
use ulib::{check, fail, msg, sys};

ulib::test_main!(body);

const PAGES: usize = 8;
const DATA_SEED: u64 = 0x1a2f;
const FILE_SEED: u64 = 0xf11e;

/// Initialized data: loaded from the executable file on first touch.
static DATA: PageArray<{ PAGES * PAGE }> = PageArray::with_pattern(DATA_SEED);

/// The pages of `base ..` that are resident, as a bit set.
fn resident_set(base: usize) -> u32 {
    (0..PAGES)
        .filter(|&i| resident(base + i * PAGE))
        .fold(0, |set, i| set | 1 << i)
}

/// Checks page `page` of `base ..` against the contents named by `seed`.
fn page_holds(base: usize, page: usize, seed: u64) -> bool {
    // SAFETY: the caller passes a readable region of PAGES pages.
    let bytes = unsafe { core::slice::from_raw_parts((base + page * PAGE) as *const u8, PAGE) };
    pattern_mismatch(bytes, seed, (page * PAGE) as u64).is_none()
}

fn executable_data() {
    let base = DATA.as_ptr() as usize;
    check!(
        resident_set(base) == 0,
        "no page of the initialized data is loaded"
    );
    let ok = page_holds(base, 2, DATA_SEED);
    let set = resident_set(base);
    check!(
        ok && set == 1 << 2,
        "reading a data page loads that page, from the executable"
    );
    let ok = page_holds(base, 6, DATA_SEED);
    let set = resident_set(base);
    check!(
        ok && set == (1 << 2) | (1 << 6),
        "reading another loads that one too"
    );
}

fn mapped_file() {
    check!(
        sys::create(c"lazy.dat", (PAGES * PAGE) as u32),
        "create \"lazy.dat\""
    );
    let fd = sys::open(c"lazy.dat");
    check!(fd > 1, "open \"lazy.dat\"");
    let mut page = [0u8; PAGE];
    for i in 0..PAGES {
        fill_pattern(&mut page, FILE_SEED, (i * PAGE) as u64);
        if sys::write(fd, &page) != PAGE as i32 {
            fail!("write page {i} of \"lazy.dat\"");
        }
    }
    let map = sys::mmap(MAP_ADDR as *mut u8, PAGES * PAGE, false, fd, 0);
    check!(map as usize == MAP_ADDR, "mmap \"lazy.dat\"");
    check!(
        resident_set(MAP_ADDR) == 0,
        "no page of the mapping is loaded"
    );
    let ok = page_holds(MAP_ADDR, 3, FILE_SEED);
    let set = resident_set(MAP_ADDR);
    check!(
        ok && set == 1 << 3,
        "reading a mapped page loads that page, from the file"
    );
    let ok = page_holds(MAP_ADDR, 0, FILE_SEED) && page_holds(MAP_ADDR, 7, FILE_SEED);
    let set = resident_set(MAP_ADDR);
    check!(
        ok && set == 1 | (1 << 3) | (1 << 7),
        "reading two more loads those two"
    );
    msg!("munmap \"lazy.dat\"");
    sys::munmap(map);
    check!(
        resident_set(MAP_ADDR) == 0,
        "after munmap no page of the range is mapped"
    );
    sys::close(fd);
}

fn body(_args: &[&str]) {
    executable_data();
    mapped_file();
}
