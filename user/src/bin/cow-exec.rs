//! `cow-exec`: a child that `exec`s right after `fork` drops its shares of
//! the parent's pages: once it is gone, the parent writes every page and
//! keeps every physical page (it takes each one over instead of copying it).
#![no_std]
#![no_main]

use ulib::vmtest::{PAGE, PageArray};
use ulib::{check, sys};

ulib::test_main!(body);

const SIZE: usize = 256 << 10;
static BUF: PageArray<SIZE> = PageArray::zeroed();

fn body(_args: &[&str]) {
    // SAFETY: the only reference to the array.
    let buf = unsafe { BUF.get() };
    for page in buf.chunks_mut(PAGE) {
        page[0] = 1;
    }
    let mut before = [0u64; SIZE / PAGE];
    for (pa, page) in before.iter_mut().zip(buf.chunks(PAGE)) {
        *pa = sys::get_phys_addr(page.as_ptr());
    }
    let pid = sys::fork(c"child");
    if pid == 0 {
        sys::exec(c"child-simple");
        sys::exit(2);
    }
    let status = sys::wait(pid);
    check!(status == 81, "the child ran child-simple");
    for page in buf.chunks_mut(PAGE) {
        page[0] = 2;
    }
    let kept = buf
        .chunks(PAGE)
        .zip(before)
        .all(|(page, pa)| sys::get_phys_addr(page.as_ptr()) == pa && page[0] == 2);
    check!(kept, "the parent took every page back without a copy");
}
