//! `page-linear`: linear passes over a 4 MiB `.bss` array, twice the user
//! pool, so that every pass evicts and swaps pages back in (Pintos
//! `page-linear`): fill, check, encrypt, decrypt, check.
#![no_std]
#![no_main]

use ulib::vmtest::guest::swap_slots_used;
use ulib::vmtest::{Arc4, KEY, PageArray};
use ulib::{check, fail, msg};

ulib::test_main!(body);

const SIZE: usize = 4 << 20;
static BUF: PageArray<SIZE> = PageArray::zeroed();

fn check_all(buf: &[u8], value: u8) {
    if let Some(i) = buf.iter().position(|&b| b != value) {
        fail!("byte {i} != {value:#x}");
    }
}

fn body(_args: &[&str]) {
    // SAFETY: the only reference to the array.
    let buf = unsafe { BUF.get() };

    msg!("initialize");
    buf.fill(0x5a);

    msg!("read pass");
    check_all(buf, 0x5a);
    let slots = swap_slots_used().unwrap_or(0);
    check!(slots > 0, "part of the array is in swap");

    msg!("read/modify/write pass one");
    Arc4::new(KEY).crypt(buf);

    msg!("read/modify/write pass two");
    Arc4::new(KEY).crypt(buf);

    msg!("read pass");
    check_all(buf, 0x5a);
}
