//! `bench-fileio KIND ...`: times file I/O through the file-system block
//! cache with the TSC, the first time (the blocks come from the disk and
//! fill the cache) and again (served from the cache).
//!
//! - `read NAME`: reads the file NAME (put into the file system by the host,
//!   so none of it is cached yet) with one `read` per 4 KiB, twice;
//! - `fault NAME`: maps NAME and reads one byte of each page (one lazy file
//!   fault per page), unmaps it, maps it again and faults every page again;
//! - `syn`: the `syn-read` workload (ten children reading one 1 KiB file at
//!   once, one byte per `read`), timed from the first fork to the last wait.
//!
//! Output: `bench-fileio: read N pages, cold C cycles/page, warm W cycles/page,
//! M misses cold, H misses warm`, the same with `fault` and `cycles/fault`,
//! and `bench-fileio: syn 10 children, C cycles (T us)`.
#![no_std]
#![no_main]

use ulib::fstest::{SYN_READ_CHILDREN, SYN_READ_NAME, SYN_READ_SEED, SYN_READ_SIZE};
use ulib::vmtest::fill_pattern;
use ulib::{cformat, println, sys};

ulib::entry!(main);

const PAGE: usize = 4096;
/// Where `fault` maps the file.
const MAP_AT: usize = 0x1000_0000;

fn main(args: &[&str]) -> i32 {
    match (args.get(1).copied(), args.get(2)) {
        (Some("read"), Some(name)) => read(name),
        (Some("fault"), Some(name)) => fault(name),
        (Some("syn"), None) => syn(),
        _ => {
            println!("usage: bench-fileio read NAME | fault NAME | syn");
            1
        }
    }
}

fn misses() -> u64 {
    sys::kstats().map_or(0, |k| k.fs_cache_misses)
}

fn open(name: &str) -> Option<(i32, usize)> {
    let fd = sys::open(cformat!("{name}").as_cstr());
    let len = usize::try_from(sys::filesize(fd)).ok()?;
    (fd > 1 && len >= PAGE).then_some((fd, len / PAGE))
}

/// One pass over `pages` with `step(page)`: (cycles per page, cache misses).
fn pass(pages: usize, mut step: impl FnMut(usize) -> bool) -> Option<(u64, u64)> {
    let before = misses();
    let start = sys::rdtsc();
    for page in 0..pages {
        if !step(page) {
            return None;
        }
    }
    let cycles = sys::rdtsc() - start;
    Some((cycles / pages as u64, misses() - before))
}

fn report(kind: &str, unit: &str, pages: usize, cold: (u64, u64), warm: (u64, u64)) -> i32 {
    println!(
        "bench-fileio: {kind} {pages} pages, cold {} {unit}, warm {} {unit}, {} misses cold, {} misses warm",
        cold.0, warm.0, cold.1, warm.1
    );
    0
}

fn read(name: &str) -> i32 {
    let Some((fd, pages)) = open(name) else {
        println!("bench-fileio: cannot open {name}");
        return 1;
    };
    let mut buf = [0u8; PAGE];
    let mut step = |_| sys::read(fd, &mut buf) == PAGE as i32;
    let Some(cold) = pass(pages, &mut step) else {
        println!("bench-fileio: read failed");
        return 1;
    };
    sys::seek(fd, 0);
    let Some(warm) = pass(pages, &mut step) else {
        println!("bench-fileio: read failed");
        return 1;
    };
    report("read", "cycles/page", pages, cold, warm)
}

fn fault(name: &str) -> i32 {
    let Some((fd, pages)) = open(name) else {
        println!("bench-fileio: cannot open {name}");
        return 1;
    };
    let mut runs = [(0, 0); 2];
    for run in &mut runs {
        let map = sys::mmap(MAP_AT as *mut u8, pages * PAGE, false, fd, 0);
        if map.is_null() {
            println!("bench-fileio: mmap failed");
            return 1;
        }
        let step = |page: usize| {
            // SAFETY: `map` maps `pages` readable pages of the file.
            unsafe { map.add(page * PAGE).read_volatile() };
            true
        };
        *run = pass(pages, step).unwrap_or_default();
        sys::munmap(map);
    }
    report("fault", "cycles/fault", pages, runs[0], runs[1])
}

fn syn() -> i32 {
    let name = cformat!("{SYN_READ_NAME}");
    let mut buf = [0u8; SYN_READ_SIZE];
    fill_pattern(&mut buf, SYN_READ_SEED, 0);
    sys::remove(name.as_cstr());
    let fd = if sys::create(name.as_cstr(), SYN_READ_SIZE as u32) {
        sys::open(name.as_cstr())
    } else {
        -1
    };
    if fd < 2 || sys::write(fd, &buf) != SYN_READ_SIZE as i32 {
        println!("bench-fileio: cannot write {SYN_READ_NAME}");
        return 1;
    }
    sys::close(fd);
    let start = sys::rdtsc();
    let mut pids = [0; SYN_READ_CHILDREN];
    for (i, pid) in pids.iter_mut().enumerate() {
        *pid = sys::fork(c"child-syn-read");
        if *pid == 0 {
            sys::exec(cformat!("child-syn-read {i}").as_cstr());
            sys::exit(-1);
        }
    }
    let ok = pids
        .iter()
        .enumerate()
        .all(|(i, &pid)| pid > 0 && sys::wait(pid) == i as i32);
    let cycles = sys::rdtsc() - start;
    if !ok {
        println!("bench-fileio: a syn-read child failed");
        return 1;
    }
    let us = cycles * 1000 / sys::tsc_khz().max(1);
    println!("bench-fileio: syn {SYN_READ_CHILDREN} children, {cycles} cycles ({us} us)");
    0
}
