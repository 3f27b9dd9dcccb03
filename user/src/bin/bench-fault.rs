//! `bench-fault KIND [PAGES]`: times page faults of one kind with the TSC and
//! prints the cycles per fault (total, measured around the touching loop, so
//! trap, kernel handler and return together).
//!
//! - `zero`: first touch of lazy zero-filled pages (bss);
//! - `file`: first touch of pages of a mapped file (reads the file);
//! - `stack`: stack growth, one new page per call level;
//! - `swap`: an array twice the size of the user pool (run with a small
//!   `--user-mem` and a swap disk): one pass to fill it, then timed passes
//!   that fault every page back in (each fault evicts another page), reported
//!   as cycles per swap-in and pages per second swapped out and in;
//! - `cow`: copy-on-write faults: the parent writes PAGES pages and forks;
//!   the child writes each of them while the parent still shares them (each
//!   write copies the page) and reports;
//! - `all`: `zero`, `file` and `stack` one after the other in one process
//!   (PAGES each, capped per kind), so that one run (and one `--profile`
//!   table, where the three are separate fault kinds) covers all three; this
//!   pays the program's load and exit once, which matters in the emulated
//!   native mode, where registering and destroying the lazy array's pages is
//!   most of a run.
//!
//! Output, one line per kind: `bench-fault: KIND N faults, C cycles/fault (T ns)[, P pages/s]`.
#![no_std]
#![no_main]

use core::hint::black_box;
use ulib::{println, sys};

ulib::entry!(main);

const PAGE: usize = 4096;
/// Largest array the benchmark touches (bss: lazy, costs nothing until
/// touched, but each page is an entry of the supplemental page table). 16 MiB:
/// twice a user pool of 8 MiB for `swap`.
const ARRAY_PAGES: usize = 4096;

#[repr(C, align(4096))]
struct Array([u8; ARRAY_PAGES * PAGE]);
static mut ARRAY: Array = Array([0; ARRAY_PAGES * PAGE]);

fn array() -> *mut u8 {
    (&raw mut ARRAY).cast()
}

fn report(kind: &str, faults: u64, cycles: u64, extra: Option<u64>) {
    let khz = sys::tsc_khz().max(1);
    let per = cycles / faults.max(1);
    let ns = per * 1_000_000 / khz;
    match extra {
        Some(pps) => println!(
            "bench-fault: {kind} {faults} faults, {per} cycles/fault ({ns} ns), {pps} pages/s"
        ),
        None => println!("bench-fault: {kind} {faults} faults, {per} cycles/fault ({ns} ns)"),
    }
}

/// Touches `pages` pages from `base` (one write each); returns the cycles.
fn touch(base: *mut u8, pages: usize) -> u64 {
    let start = sys::rdtsc();
    for i in 0..pages {
        // SAFETY: the caller passes `pages` pages of memory the program owns.
        unsafe { base.add(i * PAGE).write_volatile(i as u8 | 1) };
    }
    sys::rdtsc() - start
}

/// Reads one byte of each of `pages` pages.
fn read_all(base: *const u8, pages: usize) -> u64 {
    let start = sys::rdtsc();
    let mut sum = 0u64;
    for i in 0..pages {
        // SAFETY: as in `touch`.
        sum += unsafe { base.add(i * PAGE).read_volatile() } as u64;
    }
    black_box(sum);
    sys::rdtsc() - start
}

fn zero(pages: usize) -> i32 {
    let pages = pages.min(ARRAY_PAGES);
    report("zero", pages as u64, touch(array(), pages), None);
    0
}

fn file(pages: usize) -> i32 {
    let pages = pages.min(1024);
    let name = c"bench.dat";
    if !sys::create(name, (pages * PAGE) as u32) {
        sys::remove(name);
        if !sys::create(name, (pages * PAGE) as u32) {
            println!("bench-fault: cannot create bench.dat");
            return 1;
        }
    }
    let fd = sys::open(name);
    let at = 0x1000_0000 as *mut u8;
    let map = sys::mmap(at, pages * PAGE, false, fd, 0);
    if map.is_null() {
        println!("bench-fault: mmap failed");
        return 1;
    }
    report("file", pages as u64, read_all(map, pages), None);
    sys::munmap(map);
    sys::close(fd);
    sys::remove(name);
    0
}

/// Recurses `depth` levels with a page-sized frame each; returns the cycles
/// spent from the first call on.
#[inline(never)]
fn grow(depth: usize) -> u64 {
    let mut frame = [0u8; PAGE];
    black_box(&mut frame);
    frame[0] = depth as u8;
    if depth == 0 {
        0
    } else {
        black_box(grow(depth - 1)) + frame[0] as u64
    }
}

fn stack(pages: usize) -> i32 {
    let pages = pages.min(200);
    let start = sys::rdtsc();
    black_box(grow(pages));
    report("stack", pages as u64, sys::rdtsc() - start, None);
    0
}

fn swap(pages: usize) -> i32 {
    let Some(stats) = sys::memstats() else {
        return 1;
    };
    let pages = if pages == 0 {
        (stats.user_frames_total as usize) * 2
    } else {
        pages
    }
    .min(ARRAY_PAGES);
    if stats.swap_slots_total == 0 {
        println!("bench-fault: no swap disk (run with --swap)");
        return 1;
    }
    touch(array(), pages);
    let passes = 2;
    let mut cycles = 0;
    for _ in 0..passes {
        cycles += read_all(array(), pages);
    }
    let faults = (passes * pages) as u64;
    let khz = sys::tsc_khz().max(1);
    // Each fault swaps one page in and (to make room) one out.
    let pps = faults * 1000 * khz / cycles.max(1);
    report("swap", faults, cycles, Some(pps));
    0
}

fn cow(pages: usize) -> i32 {
    let pages = pages.min(ARRAY_PAGES);
    touch(array(), pages);
    let pid = sys::fork(c"bench-cow");
    if pid == 0 {
        report("cow", pages as u64, touch(array(), pages), None);
        sys::exit(0);
    }
    if pid < 0 {
        println!("bench-fault: fork failed");
        return 1;
    }
    sys::wait(pid)
}

fn main(args: &[&str]) -> i32 {
    let pages = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(0usize);
    let or = |d: usize| if pages == 0 { d } else { pages };
    match args.get(1).copied() {
        Some("zero") => zero(or(4096)),
        Some("file") => file(or(512)),
        Some("stack") => stack(or(128)),
        Some("swap") => swap(pages),
        Some("cow") => cow(or(512)),
        Some("all") => {
            let zero_status = zero(or(4096));
            let file_status = file(or(512));
            zero_status | file_status | stack(or(128))
        }
        _ => {
            println!("usage: bench-fault zero|file|stack|swap|cow|all [PAGES]");
            2
        }
    }
}
