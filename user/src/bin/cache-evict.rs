//! `cache-evict`: writes a file larger than the file-system block cache in
//! pieces that do not line up with sectors, then reads it all back, so the
//! cache has to write dirty blocks back to make room and read them again.
//! The host test checks the file in the `--disk` image after the run too.
#![no_std]
#![no_main]

use ulib::fstest::{EVICT_NAME, EVICT_PIECE, EVICT_SEED, EVICT_SIZE};
use ulib::vmtest::{fill_pattern, pattern_mismatch};
use ulib::{cformat, check, fail, msg, sys};

ulib::test_main!(body);

fn body(_args: &[&str]) {
    let before = sys::kstats();
    let name = cformat!("{EVICT_NAME}");
    check!(
        sys::create(name.as_cstr(), EVICT_SIZE as u32),
        "create \"{EVICT_NAME}\""
    );
    let fd = sys::open(name.as_cstr());
    check!(fd > 1, "open \"{EVICT_NAME}\"");
    let mut piece = [0u8; EVICT_PIECE];
    let mut done = 0;
    while done < EVICT_SIZE {
        let n = EVICT_PIECE.min(EVICT_SIZE - done);
        fill_pattern(&mut piece[..n], EVICT_SEED, done as u64);
        if sys::write(fd, &piece[..n]) != n as i32 {
            fail!("write \"{EVICT_NAME}\" at {done}");
        }
        done += n;
    }
    msg!("wrote \"{EVICT_NAME}\"");
    sys::seek(fd, 0);
    done = 0;
    while done < EVICT_SIZE {
        let n = EVICT_PIECE.min(EVICT_SIZE - done);
        if sys::read(fd, &mut piece[..n]) != n as i32 {
            fail!("read \"{EVICT_NAME}\" at {done}");
        }
        if let Some(i) = pattern_mismatch(&piece[..n], EVICT_SEED, done as u64) {
            fail!("byte {} of \"{EVICT_NAME}\" is wrong", done + i);
        }
        done += n;
    }
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
