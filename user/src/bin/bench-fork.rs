//! `bench-fork fork|exit [PAGES [REPEATS]]`: what fork and exit cost per resident page,
//! from the kernel's own counters (`KernelStats`).
//!
//! - `fork`: forks (the child exits at once) with few pages resident, then
//!   touches PAGES more pages (default and most 512) and forks again; the parent reads
//!   `last_fork_copy_cycles` after each and reports the difference divided by
//!   the difference in resident pages (from `MemStats`): the copy cost of one
//!   resident page, without the fixed cost of the rest of the address space.
//! - `exit`: a child touches no pages and exits, then a child touches PAGES
//!   pages and exits; after each wait the parent reads `last_teardown_cycles`
//!   (the child's address-space teardown) and reports the difference per page.
//!
//! - `loop`: with PAGES pages resident, forks a child that exits at once and
//!   waits for it, REPEATS times; reports the whole round trip per fork,
//!   timed by the parent (`bench-fork: loop N forks of P pages, C cycles/fork (T ns)`).
//!
//! Each per-page figure is the least over REPEATS forks (default 5, at most
//! 7): the one least disturbed by other work on the host. Prints one line:
//! `bench-fork: KIND N pages, C cycles/page (T ns), base B cycles`.
#![no_std]
#![no_main]

use core::hint::black_box;

use ulib::{println, sys};

ulib::entry!(main);

const PAGE: usize = 4096;
/// Largest number of pages touched (bss: lazy, costs nothing until touched,
/// but every page is an entry of the supplemental page table that each fork
/// copies and each exit destroys, which is slow in the emulated native mode).
const ARRAY_PAGES: usize = 512;
/// Most forks per measurement.
const MAX_REPEATS: usize = 7;

#[repr(C, align(4096))]
struct Array([u8; ARRAY_PAGES * PAGE]);
static mut ARRAY: Array = Array([0; ARRAY_PAGES * PAGE]);

/// Writes one byte to each of the first `pages` pages of the array.
fn touch(pages: usize) {
    let base: *mut u8 = (&raw mut ARRAY).cast();
    for i in 0..pages {
        // SAFETY: `pages` is at most ARRAY_PAGES, so the write is inside the array.
        unsafe { base.add(i * PAGE).write_volatile(i as u8 | 1) };
    }
}

/// Forks a child that touches `child_pages` pages and exits; the parent waits
/// and returns the kernel's counters, or `None` if fork failed.
fn fork_once(child_pages: usize) -> Option<abi::syscall::KernelStats> {
    let pid = sys::fork(c"bench-child");
    if pid == 0 {
        touch(child_pages);
        sys::exit(0);
    }
    if pid < 0 || sys::wait(pid) != 0 {
        return None;
    }
    sys::kstats()
}

/// The least of `pick(stats)` over `repeats` forks: the fork least disturbed
/// by other work on the host (these are short, fixed amounts of work).
fn measure(
    child_pages: usize,
    repeats: usize,
    pick: fn(&abi::syscall::KernelStats) -> u64,
) -> Option<u64> {
    let mut v = [0; MAX_REPEATS];
    let v = &mut v[..repeats];
    for slot in v.iter_mut() {
        *slot = pick(&fork_once(child_pages)?);
    }
    v.iter().copied().min()
}

fn resident() -> u64 {
    sys::memstats().map_or(0, |m| m.user_frames_used)
}

fn report(kind: &str, pages: u64, base: u64, with_pages: u64) {
    let per = with_pages.saturating_sub(base) / pages.max(1);
    let ns = per * 1_000_000 / sys::tsc_khz().max(1);
    println!("bench-fork: {kind} {pages} pages, {per} cycles/page ({ns} ns), base {base} cycles");
}

fn fork(pages: usize, repeats: usize) -> Option<()> {
    let copy = |s: &abi::syscall::KernelStats| s.last_fork_copy_cycles;
    let r0 = resident();
    let base = measure(0, repeats, copy)?;
    touch(pages);
    let r1 = resident();
    let with_pages = measure(0, repeats, copy)?;
    report("fork", r1.saturating_sub(r0), base, with_pages);
    Some(())
}

fn exit(pages: usize, repeats: usize) -> Option<()> {
    let teardown = |s: &abi::syscall::KernelStats| s.last_teardown_cycles;
    let base = measure(0, repeats, teardown)?;
    let with_pages = measure(pages, repeats, teardown)?;
    report("exit", pages as u64, base, with_pages);
    Some(())
}

fn fork_loop(pages: usize, forks: usize) -> Option<()> {
    touch(pages);
    let start = sys::rdtsc();
    for _ in 0..forks {
        let pid = sys::fork(c"bench-child");
        if pid == 0 {
            sys::exit(0);
        }
        if pid < 0 || sys::wait(pid) != 0 {
            return None;
        }
    }
    let per = (sys::rdtsc() - start) / forks.max(1) as u64;
    let ns = per * 1_000_000 / sys::tsc_khz().max(1);
    println!("bench-fork: loop {forks} forks of {pages} pages, {per} cycles/fork ({ns} ns)");
    Some(())
}

fn main(args: &[&str]) -> i32 {
    let pages = args
        .get(2)
        .and_then(|a| a.parse().ok())
        .filter(|&n: &usize| n > 0)
        .unwrap_or(ARRAY_PAGES)
        .min(ARRAY_PAGES);
    let repeats = args
        .get(3)
        .and_then(|a| a.parse().ok())
        .filter(|&n: &usize| n > 0)
        .unwrap_or(5)
        .min(MAX_REPEATS);
    let done = match args.get(1).copied() {
        Some("fork") => fork(pages, repeats),
        Some("exit") => exit(pages, repeats),
        Some("loop") => {
            let forks = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(100);
            fork_loop(pages, forks)
        }
        _ => {
            println!("usage: bench-fork fork|exit|loop [PAGES [REPEATS]]");
            return 2;
        }
    };
    black_box(&raw const ARRAY);
    match done {
        Some(()) => 0,
        None => {
            println!("bench-fork: fork, wait or kstats failed");
            1
        }
    }
}
