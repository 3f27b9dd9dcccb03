//! `cache-evict`: writes a file larger than the file-system block cache in
//! pieces that do not line up with sectors, then reads it all back, so the
//! cache has to write dirty blocks back to make room and read them again.
//! The host test checks the file in the `--disk` image after the run too.
#![no_std]
#![no_main]

use ulib::fstest::guest::{read_patterned, write_patterned};
use ulib::fstest::{EVICT_NAME, EVICT_PIECE, EVICT_SEED, EVICT_SIZE};
use ulib::{check, fail, msg, sys};

ulib::test_main!(body);

fn body(_args: &[&str]) {
    let before = sys::kstats();
    let fd = write_patterned::<EVICT_PIECE>(EVICT_NAME, EVICT_SIZE, EVICT_SEED);
    read_patterned::<EVICT_PIECE>(fd, EVICT_NAME, EVICT_SIZE, EVICT_SEED);
    msg!("read \"{EVICT_NAME}\" back");
    let (Some(before), Some(after)) = (before, sys::kstats()) else {
        fail!("kstats");
    };
    check!(
        after.fs_cache_bytes > 0 && (after.fs_cache_bytes as usize) < EVICT_SIZE,
        "the file is larger than the cache"
    );
    check!(
        after.fs_cache_eviction_write_backs > before.fs_cache_eviction_write_backs,
        "dirty blocks were written back to make room"
    );
    sys::close(fd);
}
