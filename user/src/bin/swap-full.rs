//! `swap-full`: a child that needs more memory than the user pool and the
//! swap disk hold together must be killed cleanly (with the kernel's
//! out-of-memory message) while the kernel lives on: the parent then uses
//! memory under pressure itself and ends normally, and every frame and slot
//! the child held comes back (the kernel's leak check at shutdown).
#![no_std]
#![no_main]

use ulib::vmtest::{PAGE, PageArray, fill_pattern, pattern_mismatch};
use ulib::{check, fail, msg, sys};

ulib::test_main!(body);

/// Four times what the 1 MiB pool and the 1 MiB swap disk hold together.
const SIZE: usize = 8 << 20;
/// What the parent uses afterwards (more than the pool, less than pool + swap).
const AFTER: usize = 3 << 19;
const SEED: u64 = 0xf011;
static ARRAY: PageArray<SIZE> = PageArray::zeroed();

fn body(_args: &[&str]) {
    // SAFETY: the only reference to the array (each process has its own copy).
    let array = unsafe { ARRAY.get() };
    let pid = sys::fork(c"hog");
    if pid == 0 {
        for page in array.chunks_mut(PAGE) {
            page[0] = 1;
        }
        fail!("the hog got {SIZE} bytes");
    }
    let status = sys::wait(pid);
    check!(status == -1, "wait for the hog (should return -1)");
    let mine = &mut array[..AFTER];
    fill_pattern(mine, SEED, 0);
    if let Some(i) = pattern_mismatch(mine, SEED, 0) {
        fail!("byte {i} of the parent's array differs");
    }
    msg!("memory works again");
}
