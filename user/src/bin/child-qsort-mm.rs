//! `child-qsort-mm FILE`: maps FILE, one page longer than the file (the
//! extra page must read as zeros and never be written back), quicksorts the
//! file's bytes in place in the mapping and unmaps it; exits with 80 (Pintos
//! `child-qsort-mm`, the child of `page-merge-mm`).
#![no_std]
#![no_main]

use ulib::vmtest::{MAP_ADDR, PAGE, quicksort};
use ulib::{cformat, fail, sys};

ulib::entry!(main);

fn main(args: &[&str]) -> i32 {
    ulib::entry::set_program_name("child-qsort-mm");
    let Some(name) = args.get(1) else {
        fail!("usage: child-qsort-mm FILE");
    };
    let cname = cformat!("{name}");
    let fd = sys::open(cname.as_cstr());
    if fd < 2 {
        fail!("open \"{name}\"");
    }
    let size = sys::filesize(fd);
    if size <= 0 || !(size as usize).is_multiple_of(PAGE) {
        fail!("\"{name}\" has size {size}");
    }
    let size = size as usize;
    let map = sys::mmap(MAP_ADDR as *mut u8, size + PAGE, true, fd, 0);
    if map as usize != MAP_ADDR {
        fail!("mmap \"{name}\"");
    }
    sys::close(fd);
    // SAFETY: the mapping covers `size + PAGE` bytes at MAP_ADDR until munmap.
    let all = unsafe { core::slice::from_raw_parts_mut(map, size + PAGE) };
    let (data, tail) = all.split_at_mut(size);
    if tail.iter().any(|&b| b != 0) {
        fail!("the page past the end of \"{name}\" is not zero");
    }
    tail.fill(0xcc);
    quicksort(data);
    sys::munmap(map);
    80
}
