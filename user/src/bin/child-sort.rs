//! `child-sort FILE`: sorts the bytes of FILE with a counting sort in a
//! `.bss` buffer and writes them back; exits with 123 (Pintos `child-sort`,
//! the child of `page-merge-seq` and `page-merge-par`).
#![no_std]
#![no_main]

use ulib::vmtest::merge::CHUNK;
use ulib::vmtest::{PageArray, counting_sort};
use ulib::{cformat, fail, sys};

ulib::entry!(main);

static BUF: PageArray<CHUNK> = PageArray::zeroed();

fn main(args: &[&str]) -> i32 {
    ulib::entry::set_program_name("child-sort");
    let Some(name) = args.get(1) else {
        fail!("usage: child-sort FILE");
    };
    let cname = cformat!("{name}");
    let fd = sys::open(cname.as_cstr());
    if fd < 2 {
        fail!("open \"{name}\"");
    }
    // SAFETY: the only reference to the buffer.
    let buf = unsafe { BUF.get() };
    let n = sys::read(fd, buf);
    if n != CHUNK as i32 {
        fail!("read \"{name}\" returned {n}");
    }
    counting_sort(buf);
    sys::seek(fd, 0);
    if sys::write(fd, buf) != CHUNK as i32 {
        fail!("write \"{name}\"");
    }
    sys::close(fd);
    123
}
