//! `page-shuffle`: a 3 MiB `.bss` array, larger than the 2 MiB user pool, is
//! filled with known contents and its 1 KiB blocks are shuffled several times,
//! so that accesses land on random pages; the checksum after each round must
//! match the one the host computes (Pintos `page-shuffle`).
#![no_std]
#![no_main]

use ulib::msg;
use ulib::vmtest::{PAGE_SHUFFLE_SEED, PAGE_SHUFFLE_SIZE, PageArray, shuffle_test};

ulib::test_main!(body);

static BUF: PageArray<PAGE_SHUFFLE_SIZE> = PageArray::zeroed();

fn body(_args: &[&str]) {
    // SAFETY: the only reference to the array.
    let buf = unsafe { BUF.get() };
    shuffle_test(buf, PAGE_SHUFFLE_SEED, |round, sum| {
        if round == 0 {
            msg!("init: cksum={sum}");
        } else {
            msg!("shuffle {round}: cksum={sum}");
        }
    });
}
