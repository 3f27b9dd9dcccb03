//! `cache-grow`: the file-system block cache takes memory as it needs it.
//! When the program starts the cache holds only the blocks read so far
//! (the directory and the program), far less than the 1 MiB it took at boot
//! before; then a file larger than that 1 MiB is written and read back
//! twice, and the second pass must not miss a single block (the cache grew
//! to hold all of it).
#![no_std]
#![no_main]

use ulib::fstest::guest::{read_patterned, write_patterned};
use ulib::fstest::{GROW_NAME, GROW_PIECE, GROW_SEED, GROW_SIZE, GROW_START_MAX};
use ulib::{check, fail, msg, sys};

ulib::test_main!(body);

fn body(_args: &[&str]) {
    let Some(start) = sys::kstats() else {
        fail!("kstats");
    };
    check!(
        (start.fs_cache_bytes as usize) < GROW_START_MAX,
        "the cache holds only the blocks read so far"
    );
    let fd = write_patterned::<GROW_PIECE>(GROW_NAME, GROW_SIZE, GROW_SEED);
    read_patterned::<GROW_PIECE>(fd, GROW_NAME, GROW_SIZE, GROW_SEED);
    let Some(first) = sys::kstats() else {
        fail!("kstats");
    };
    read_patterned::<GROW_PIECE>(fd, GROW_NAME, GROW_SIZE, GROW_SEED);
    msg!("read \"{GROW_NAME}\" back twice");
    let Some(second) = sys::kstats() else {
        fail!("kstats");
    };
    check!(
        first.fs_cache_bytes as usize > GROW_SIZE,
        "the cache grew past the file's size"
    );
    check!(
        second.fs_cache_misses == first.fs_cache_misses,
        "the second pass missed no block"
    );
    sys::close(fd);
}
