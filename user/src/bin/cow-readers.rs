//! `cow-readers`: a 24 MiB process forks three readers that check every
//! page of it, with a 32 MiB user pool and no swap: four copies could never
//! fit, shared pages do. The parent's memory is intact afterwards, and the
//! readers saw exactly the parent's bytes at the parent's physical pages.
#![no_std]
#![no_main]

use ulib::vmtest::{PAGE, PageArray};
use ulib::{cformat, check, health, sys};

ulib::test_main!(body);

const SIZE: usize = 24 << 20;
static BIG: PageArray<SIZE> = PageArray::zeroed();
const READERS: usize = 3;

/// What page `i` holds.
fn mark(i: usize) -> u64 {
    (i as u64).wrapping_mul(0x9e37_79b9) ^ 0x5eed
}

/// Whether every page holds its mark.
fn intact(big: &[u8]) -> bool {
    big.chunks(PAGE)
        .enumerate()
        .all(|(i, page)| page[..8] == mark(i).to_le_bytes())
}

fn body(_args: &[&str]) {
    // SAFETY: the only reference to the array.
    let big = unsafe { BIG.get() };
    for (i, page) in big.chunks_mut(PAGE).enumerate() {
        page[..8].copy_from_slice(&mark(i).to_le_bytes());
    }
    let first = sys::get_phys_addr(big.as_ptr());
    let mut pids = [0; READERS];
    for (r, pid) in pids.iter_mut().enumerate() {
        let name = cformat!("reader{r}");
        *pid = sys::fork(name.as_cstr());
        if *pid == 0 {
            let same = sys::get_phys_addr(big.as_ptr()) == first;
            sys::exit(if intact(big) && same { 0 } else { 1 });
        }
        check!(*pid > 0, "fork reader {r}");
    }
    let all = pids.iter().all(|&pid| sys::wait(pid) == 0);
    check!(all, "three readers saw all 24 MiB at the parent's pages");
    check!(intact(big), "the parent's 24 MiB are intact");
    health::still_works();
}
