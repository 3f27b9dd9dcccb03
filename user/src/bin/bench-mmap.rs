//! `bench-mmap [PAGES]`: the cost of writing back a dirty file mapping.
//! Creates a file of PAGES pages (default 256), maps it writable, dirties
//! every page (one write each, which also faults each page in from the file),
//! then times `munmap`, which writes every dirty page back to the file, and
//! divides by the pages. Reading the file back checks that the writes landed.
//!
//! Prints one line: `bench-mmap: N pages, C cycles/page (T ns) write-back, F cycles/page first write`.
#![no_std]
#![no_main]

use ulib::{println, sys};

ulib::entry!(main);

const PAGE: usize = 4096;
/// Largest mapping (the file system holds a 16 MiB disk by default).
const MAX_PAGES: usize = 1024;
/// Where the file is mapped.
const MAP_AT: usize = 0x1000_0000;

/// The byte written at the start of page `i`.
fn mark(i: usize) -> u8 {
    (i as u8) | 0x80
}

fn main(args: &[&str]) -> i32 {
    let pages = args
        .get(1)
        .and_then(|a| a.parse().ok())
        .filter(|&n: &usize| n > 0)
        .unwrap_or(256)
        .min(MAX_PAGES);
    let name = c"wb.dat";
    sys::remove(name);
    if !sys::create(name, (pages * PAGE) as u32) {
        println!("bench-mmap: cannot create wb.dat");
        return 1;
    }
    let fd = sys::open(name);
    let map = sys::mmap(MAP_AT as *mut u8, pages * PAGE, true, fd, 0);
    if map.is_null() {
        println!("bench-mmap: mmap failed");
        return 1;
    }
    let start = sys::rdtsc();
    for i in 0..pages {
        // SAFETY: `map` is a writable mapping of `pages` pages.
        unsafe { map.add(i * PAGE).write_volatile(mark(i)) };
    }
    let dirty = sys::rdtsc() - start;
    let start = sys::rdtsc();
    sys::munmap(map);
    let unmap = sys::rdtsc() - start;

    // The file must now hold every page's mark.
    let mut byte = [0u8; 1];
    for i in 0..pages {
        sys::seek(fd, (i * PAGE) as u32);
        if sys::read(fd, &mut byte) != 1 || byte[0] != mark(i) {
            println!("bench-mmap: page {i} was not written back");
            return 1;
        }
    }
    sys::close(fd);
    sys::remove(name);

    let per = unmap / pages as u64;
    let ns = per * 1_000_000 / sys::tsc_khz().max(1);
    println!(
        "bench-mmap: {pages} pages, {per} cycles/page ({ns} ns) write-back, {} cycles/page first write",
        dirty / pages as u64
    );
    0
}
