//! `swap-anon`: anonymous pages go to swap and come back: every page of a
//! 6 MiB `.bss` array, three times the 2 MiB user pool, is written with
//! its own contents and checked again, forwards and backwards (Pintos
//! `swap-anon`).
#![no_std]
#![no_main]

use ulib::vmtest::guest::swap_slots_used;
use ulib::vmtest::{PAGE, PageArray, fill_pattern, pattern_mismatch};
use ulib::{check, fail, msg};

ulib::test_main!(body);

const SIZE: usize = 6 << 20;
const SEED: u64 = 0xa2011;
static BUF: PageArray<SIZE> = PageArray::zeroed();

fn check_page(buf: &[u8], i: usize) {
    let page = &buf[i * PAGE..(i + 1) * PAGE];
    if let Some(k) = pattern_mismatch(page, SEED, (i * PAGE) as u64) {
        fail!("page {i} differs at byte {k}");
    }
}

fn body(_args: &[&str]) {
    // SAFETY: the only reference to the array.
    let buf = unsafe { BUF.get() };
    let pages = SIZE / PAGE;
    msg!("write every page");
    for i in 0..pages {
        fill_pattern(&mut buf[i * PAGE..(i + 1) * PAGE], SEED, (i * PAGE) as u64);
    }
    let slots = swap_slots_used().unwrap_or(0);
    check!(
        slots as usize >= pages / 2,
        "at least half of the array is in swap"
    );
    msg!("check every page");
    for i in 0..pages {
        check_page(buf, i);
    }
    msg!("check every page in reverse order");
    for i in (0..pages).rev() {
        check_page(buf, i);
    }
}
