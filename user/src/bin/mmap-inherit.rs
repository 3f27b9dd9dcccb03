//! `mmap-inherit`: a forked child inherits its parent's mapping, and its
//! `exec` discards it: the new program's write to the address kills it. The
//! parent's mapping is unaffected (Pintos `mmap-inherit`).
#![no_std]
#![no_main]

use ulib::sample::{self, SAMPLE};
use ulib::vmtest::MAP_ADDR;
use ulib::vmtest::guest::map_sample;
use ulib::{check, fail, sys};

ulib::test_main!(body);

fn holds_sample() -> bool {
    // SAFETY: the mapping at MAP_ADDR covers one page.
    sample::matches(unsafe { core::slice::from_raw_parts(MAP_ADDR as *const u8, SAMPLE.len()) })
}

fn body(_args: &[&str]) {
    let (fd, map) = map_sample(true);
    let pid = sys::fork(c"child-inherit");
    if pid == 0 {
        check!(holds_sample(), "the child sees the parent's mapping");
        sys::exec(c"child-inherit");
        fail!("exec \"child-inherit\" returned");
    }
    let status = sys::wait(pid);
    check!(status == -1, "wait for child (should return -1)");
    check!(
        holds_sample(),
        "checking that mmap'd file still has same data"
    );
    sys::munmap(map);
    sys::close(fd);
}
