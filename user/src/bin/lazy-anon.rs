//! `lazy-anon`: `.bss` pages are loaded only when touched. Through
//! `get_phys_addr`, no page of a 16-page zero array is resident at first;
//! reading a page makes exactly that page resident (and it reads as zeros),
//! writing another does the same, and the written data reads back.
#![no_std]
#![no_main]

use ulib::vmtest::guest::resident;
use ulib::vmtest::{PAGE, PageArray};
use ulib::{check, fail};

ulib::test_main!(body);

const PAGES: usize = 16;
static ARRAY: PageArray<{ PAGES * PAGE }> = PageArray::zeroed();

/// The pages of the array that are resident, as a bit set.
fn resident_set() -> u32 {
    let base = ARRAY.as_ptr() as usize;
    (0..PAGES)
        .filter(|&i| resident(base + i * PAGE))
        .fold(0, |set, i| set | 1 << i)
}

fn body(_args: &[&str]) {
    let base = ARRAY.as_ptr();
    let before = resident_set();
    check!(before == 0, "no page of the array is loaded");

    // SAFETY: page 5 of the array; reads of a zero page.
    let value = unsafe { core::ptr::read_volatile(base.wrapping_add(5 * PAGE + 100)) };
    let after_read = resident_set();
    check!(
        after_read == 1 << 5,
        "reading a page loads that page and no other"
    );
    if value != 0 {
        fail!("a fresh page read {value}, not 0");
    }

    // SAFETY: page 11 of the array, which only this function uses.
    unsafe { core::ptr::write_volatile(base.wrapping_add(11 * PAGE + 7), 0xa5) };
    let after_write = resident_set();
    check!(
        after_write == (1 << 5) | (1 << 11),
        "writing a page loads that page and no other"
    );

    // SAFETY: the only reference to the array.
    let array = unsafe { ARRAY.get() };
    let nonzero = array.iter().filter(|&&b| b != 0).count();
    check!(
        array[11 * PAGE + 7] == 0xa5 && nonzero == 1,
        "the written byte reads back and every other byte is zero"
    );
    check!(
        resident_set() == (1 << PAGES) - 1,
        "reading the whole array loads every page"
    );
}
