//! `big-image`: a program with a 2 MiB `.data` array and a 20 MiB `.bss`
//! array, far more than the user pool at `--mem 10M`: it loads (nothing is
//! read or recorded per page until touched), every page of both arrays can
//! be used (the rest goes to swap), and the data holds what the executable
//! holds.
#![no_std]
#![no_main]

use core::cell::UnsafeCell;
use ulib::vmtest::{PAGE, PageArray};
use ulib::{check, health};

ulib::test_main!(body);

const DATA_SIZE: usize = 2 << 20;
const BSS_SIZE: usize = 20 << 20;
/// The data array: `0x5a` bytes, each page starting with its number and a tag.
#[repr(C, align(4096))]
struct Data(UnsafeCell<[u8; DATA_SIZE]>);
// SAFETY: the process is single-threaded and only reads the array.
unsafe impl Sync for Data {}
static DATA: Data = Data(UnsafeCell::new(data()));
static BSS: PageArray<BSS_SIZE> = PageArray::zeroed();

/// What page `i` of the data array starts with.
const fn data_head(i: usize) -> [u8; 8] {
    ((i as u64) << 32 | 0xda7a).to_le_bytes()
}

const fn data() -> [u8; DATA_SIZE] {
    let mut a = [0x5a; DATA_SIZE];
    let mut page = 0;
    while page < DATA_SIZE / PAGE {
        let head = data_head(page);
        let mut k = 0;
        while k < 8 {
            a[page * PAGE + k] = head[k];
            k += 1;
        }
        page += 1;
    }
    a
}

fn body(_args: &[&str]) {
    // SAFETY: the only references to the arrays.
    let (data, bss) = unsafe { (&*DATA.0.get(), BSS.get()) };
    let loaded = data
        .chunks(PAGE)
        .enumerate()
        .all(|(i, page)| page[..8] == data_head(i) && page[8..].iter().all(|&b| b == 0x5a));
    check!(loaded, "the 2 MiB .data holds the executable's bytes");
    for (i, page) in bss.chunks_mut(PAGE).enumerate() {
        page[..8].copy_from_slice(&(i as u64).to_le_bytes());
    }
    let intact = bss
        .chunks(PAGE)
        .enumerate()
        .all(|(i, page)| page[..8] == (i as u64).to_le_bytes() && page[8] == 0);
    check!(
        intact,
        "every page of the 20 MiB .bss was written and read back"
    );
    health::still_works();
}
