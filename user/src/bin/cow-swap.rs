//! `cow-swap`: pages shared after `fork` in memory twice the size of the
//! user pool (run with a small `--user-mem` and swap): the child writes its
//! own values over half of them while the parent reads the originals, so
//! shared frames are evicted from both, swapped back, copied on write and
//! on swap-in; at the end each sees exactly its own bytes.
#![no_std]
#![no_main]

use ulib::vmtest::{PAGE, PageArray};
use ulib::{check, sys};

ulib::test_main!(body);

const SIZE: usize = 4 << 20;
static BUF: PageArray<SIZE> = PageArray::zeroed();
const PASSES: usize = 3;

fn parents(i: usize) -> u8 {
    (i * 7 + 1) as u8
}

fn childs(i: usize) -> u8 {
    (i * 13 + 5) as u8
}

/// Whether page `i` holds what its owner put there.
fn check_all(buf: &[u8], child: bool) -> bool {
    buf.chunks(PAGE).enumerate().all(|(i, page)| {
        let want = if child && i % 2 == 0 {
            childs(i)
        } else {
            parents(i)
        };
        page[0] == want && page[PAGE - 1] == want
    })
}

fn body(_args: &[&str]) {
    // SAFETY: the only reference to the array.
    let buf = unsafe { BUF.get() };
    for (i, page) in buf.chunks_mut(PAGE).enumerate() {
        page[0] = parents(i);
        page[PAGE - 1] = parents(i);
    }
    let pid = sys::fork(c"child");
    if pid == 0 {
        for (i, page) in buf.chunks_mut(PAGE).enumerate().step_by(2) {
            page[0] = childs(i);
            page[PAGE - 1] = childs(i);
        }
        let ok = (0..PASSES).all(|_| check_all(buf, true));
        sys::exit(if ok { 0 } else { 1 });
    }
    let ok = (0..PASSES).all(|_| check_all(buf, false));
    check!(ok, "the parent reads its own bytes while the child writes");
    check!(sys::wait(pid) == 0, "the child reads its own bytes");
    check!(
        check_all(buf, false),
        "the parent's bytes are intact at the end"
    );
}
