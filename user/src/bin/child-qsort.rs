//! `child-qsort FILE`: reads FILE into a 128 KiB buffer on the stack (which
//! grows to hold it), quicksorts it and writes it back; exits with 72 (Pintos
//! `child-qsort`, the child of `page-merge-stk`).
#![no_std]
#![no_main]

use ulib::vmtest::merge::CHUNK;
use ulib::vmtest::quicksort;
use ulib::{cformat, fail, sys};

ulib::entry!(main);

fn main(args: &[&str]) -> i32 {
    ulib::entry::set_program_name("child-qsort");
    let Some(name) = args.get(1) else {
        fail!("usage: child-qsort FILE");
    };
    let cname = cformat!("{name}");
    let fd = sys::open(cname.as_cstr());
    if fd < 2 {
        fail!("open \"{name}\"");
    }
    let mut buf = [0u8; CHUNK];
    let buf = core::hint::black_box(&mut buf);
    let n = sys::read(fd, buf);
    if n != CHUNK as i32 {
        fail!("read \"{name}\" returned {n}");
    }
    quicksort(buf);
    sys::seek(fd, 0);
    if sys::write(fd, buf) != CHUNK as i32 {
        fail!("write \"{name}\"");
    }
    sys::close(fd);
    72
}
