//! `swap-iter`: anonymous and file-backed pages mixed under memory pressure:
//! rounds over a 3 MiB `.bss` array and a 4 MiB mapped file, interleaved page
//! by page against a 2 MiB user pool. Each round checks what the previous
//! one left in every anonymous page and stamps it anew, checks a different
//! word of every file page, and stamps every fourth file page; after munmap
//! the file holds the last stamps (Pintos `swap-iter`).
#![no_std]
#![no_main]

use ulib::vmtest::{LARGE_SEED, LARGE_SIZE, MAP_ADDR, PAGE, PageArray, pattern_mismatch};
use ulib::{check, fail, msg, sys};

ulib::test_main!(body);

const ANON_SIZE: usize = 3 << 20;
const ANON_PAGES: usize = ANON_SIZE / PAGE;
const FILE_PAGES: usize = LARGE_SIZE / PAGE;
const ROUNDS: u64 = 3;
static ANON: PageArray<ANON_SIZE> = PageArray::zeroed();

/// The stamp of page `i` after round `round` (0 before the first round).
fn stamp(round: u64, i: usize) -> u64 {
    if round == 0 {
        0
    } else {
        (round << 32) ^ (i as u64).wrapping_mul(0x9e37_79b9) ^ 0x5717_0000_0000_0000
    }
}

fn word(page: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&page[at..at + 8]);
    u64::from_le_bytes(w)
}

fn set_word(page: &mut [u8], at: usize, value: u64) {
    page[at..at + 8].copy_from_slice(&value.to_le_bytes());
}

/// Round `round` on anonymous page `i`: check the previous stamp at both ends
/// of the page and write the new one.
fn anon_step(anon: &mut [u8], round: u64, i: usize) {
    let page = &mut anon[i * PAGE..(i + 1) * PAGE];
    let old = stamp(round - 1, i);
    let old_tail = if round == 1 { 0 } else { !old };
    if word(page, 0) != old || word(page, PAGE - 8) != old_tail {
        fail!("anonymous page {i} lost its stamp of round {}", round - 1);
    }
    let new = stamp(round, i);
    set_word(page, 0, new);
    set_word(page, PAGE - 8, !new);
}

/// Round `round` on file page `i`: check one original word (other than the
/// first) and, on every fourth page, the previous stamp; then stamp it.
fn file_step(file: &mut [u8], round: u64, i: usize) {
    let page = &mut file[i * PAGE..(i + 1) * PAGE];
    let at = 8 + (round as usize * 1000 + i * 8) % (PAGE - 16) / 8 * 8;
    if pattern_mismatch(&page[at..at + 8], LARGE_SEED, (i * PAGE + at) as u64).is_some() {
        fail!("file page {i} differs from the file at byte {at}");
    }
    if i.is_multiple_of(4) {
        let old = word(page, 0);
        let expect_old = if round == 1 {
            word_of_file(i)
        } else {
            stamp(round - 1, i)
        };
        if old != expect_old {
            fail!("file page {i} lost its stamp of round {}", round - 1);
        }
        set_word(page, 0, stamp(round, i));
    }
}

/// The first word of page `i` of `large.txt` as the host wrote it.
fn word_of_file(i: usize) -> u64 {
    let mut w = [0u8; 8];
    for (k, b) in w.iter_mut().enumerate() {
        *b = ulib::vmtest::pattern_byte(LARGE_SEED, (i * PAGE + k) as u64);
    }
    u64::from_le_bytes(w)
}

fn body(_args: &[&str]) {
    let fd = sys::open(c"large.txt");
    check!(fd > 1, "open \"large.txt\"");
    let map = sys::mmap(MAP_ADDR as *mut u8, LARGE_SIZE, true, fd, 0);
    check!(map as usize == MAP_ADDR, "mmap \"large.txt\"");
    // SAFETY: the mapping covers LARGE_SIZE writable bytes until munmap.
    let file = unsafe { core::slice::from_raw_parts_mut(map, LARGE_SIZE) };
    // SAFETY: the only reference to the array.
    let anon = unsafe { ANON.get() };

    for round in 1..=ROUNDS {
        for i in 0..ANON_PAGES.max(FILE_PAGES) {
            if i < ANON_PAGES {
                anon_step(anon, round, i);
            }
            if i < FILE_PAGES {
                file_step(file, round, i);
            }
        }
        msg!("round {round}: every page held what the last round left");
    }
    msg!("munmap \"large.txt\"");
    sys::munmap(map);

    let mut page = [0u8; PAGE];
    for i in 0..FILE_PAGES {
        if sys::read(fd, &mut page) != PAGE as i32 {
            fail!("read page {i} of \"large.txt\"");
        }
        let first_ok = if i.is_multiple_of(4) {
            word(&page, 0) == stamp(ROUNDS, i)
        } else {
            pattern_mismatch(&page[..8], LARGE_SEED, (i * PAGE) as u64).is_none()
        };
        if !first_ok || pattern_mismatch(&page[8..], LARGE_SEED, (i * PAGE + 8) as u64).is_some() {
            fail!("page {i} of the file is wrong after munmap");
        }
    }
    msg!("the file holds the last stamps");
    sys::close(fd);
}
