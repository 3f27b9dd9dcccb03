//! `cache-grow`: the file-system block cache takes memory as it needs it.
//! When the program starts the cache holds only the blocks read so far
//! (the directory and the program), far less than the 1 MiB it took at boot
//! before; then a file larger than that 1 MiB is written and read back
//! twice, and the second pass must not miss a single block (the cache grew
//! to hold all of it).
#![no_std]
#![no_main]

use ulib::fstest::{GROW_NAME, GROW_PIECE, GROW_SEED, GROW_SIZE, GROW_START_MAX};
use ulib::vmtest::{fill_pattern, pattern_mismatch};
use ulib::{cformat, check, fail, msg, sys};

ulib::test_main!(body);

/// Reads the whole of `fd` from the start and checks every byte.
fn read_back(fd: i32) {
    sys::seek(fd, 0);
    let mut piece = [0u8; GROW_PIECE];
    let mut done = 0;
    while done < GROW_SIZE {
        let n = GROW_PIECE.min(GROW_SIZE - done);
        if sys::read(fd, &mut piece[..n]) != n as i32 {
            fail!("read \"{GROW_NAME}\" at {done}");
        }
        if let Some(i) = pattern_mismatch(&piece[..n], GROW_SEED, done as u64) {
            fail!("byte {} of \"{GROW_NAME}\" is wrong", done + i);
        }
        done += n;
    }
}

fn body(_args: &[&str]) {
    let Some(start) = sys::kstats() else {
        fail!("kstats");
    };
    check!(
        (start.fs_cache_bytes as usize) < GROW_START_MAX,
        "the cache holds only the blocks read so far"
    );
    let name = cformat!("{GROW_NAME}");
    check!(
        sys::create(name.as_cstr(), GROW_SIZE as u32),
        "create \"{GROW_NAME}\""
    );
    let fd = sys::open(name.as_cstr());
    check!(fd > 1, "open \"{GROW_NAME}\"");
    let mut piece = [0u8; GROW_PIECE];
    let mut done = 0;
    while done < GROW_SIZE {
        let n = GROW_PIECE.min(GROW_SIZE - done);
        fill_pattern(&mut piece[..n], GROW_SEED, done as u64);
        if sys::write(fd, &piece[..n]) != n as i32 {
            fail!("write \"{GROW_NAME}\" at {done}");
        }
        done += n;
    }
    msg!("wrote \"{GROW_NAME}\"");
    read_back(fd);
    let Some(first) = sys::kstats() else {
        fail!("kstats");
    };
    read_back(fd);
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
