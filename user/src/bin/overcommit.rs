//! `overcommit`: 64 processes, each with an 8-page file mapping it reads and
//! 48 stack pages it writes, in a user pool and swap disk that together hold
//! fewer pages than they need (run it with `--user-mem 4M --swap 8M`). Left
//! alone they would evict each other's code and file pages forever; the
//! kernel must see that reclaim no longer makes progress and kill some of
//! them (`faultline: out of memory: killing ...`), so that the others finish
//! with their memory intact. All 64 are forked before any starts its work
//! (they wait for the file `go`), so that `fork`'s own check of free memory
//! cannot hold the load back.
#![no_std]
#![no_main]

use core::hint::black_box;
use ulib::vmtest::{PAGE, pattern_byte};
use ulib::{check, health, sys};

ulib::test_main!(body);

const CHILDREN: usize = 64;
const MAP_PAGES: usize = 8;
const STACK_PAGES: usize = 48;
const MAP_AT: usize = 0x1000_0000;
const SEED: u64 = 0xc033;
const ROUNDS: usize = 4;

/// The child's work: verify the mapping, write the stack pages, go over
/// everything a few times; exits 0 if every byte was right.
fn child(index: usize) -> ! {
    while sys::open(c"go") < 0 {}
    let fd = sys::open(c"oc.dat");
    let map = sys::mmap(MAP_AT as *mut u8, MAP_PAGES * PAGE, false, fd, 0);
    if map.is_null() {
        sys::exit(2);
    }
    // SAFETY: the mapping covers MAP_PAGES pages at MAP_AT.
    let mapped = unsafe { core::slice::from_raw_parts(map, MAP_PAGES * PAGE) };
    let mut stack = [0u8; STACK_PAGES * PAGE];
    let stack = black_box(&mut stack);
    for round in 0..ROUNDS {
        for (p, page) in stack.chunks_mut(PAGE).enumerate() {
            page[0] = (index + p + round) as u8;
            page[PAGE - 1] = (index ^ p) as u8;
        }
        for (p, page) in stack.chunks(PAGE).enumerate() {
            if page[0] != (index + p + round) as u8 || page[PAGE - 1] != (index ^ p) as u8 {
                sys::exit(3);
            }
        }
        for p in 0..MAP_PAGES {
            let off = p * PAGE + (index * 8) % PAGE;
            if mapped[off] != pattern_byte(SEED, off as u64) {
                sys::exit(4);
            }
        }
    }
    sys::exit(0);
}

fn body(_args: &[&str]) {
    let len = MAP_PAGES * PAGE;
    check!(sys::create(c"oc.dat", len as u32), "create \"oc.dat\"");
    let fd = sys::open(c"oc.dat");
    let mut page = [0u8; PAGE];
    for p in 0..MAP_PAGES {
        for (i, b) in page.iter_mut().enumerate() {
            *b = pattern_byte(SEED, (p * PAGE + i) as u64);
        }
        sys::write(fd, &page);
    }
    sys::close(fd);
    let mut pids = [0i32; CHILDREN];
    for (i, pid) in pids.iter_mut().enumerate() {
        *pid = sys::fork(c"oc-child");
        if *pid == 0 {
            child(i);
        }
    }
    let started = pids.iter().filter(|&&p| p > 0).count();
    check!(sys::create(c"go", 1), "create \"go\": the children start");
    let (mut finished, mut killed, mut wrong) = (0, 0, 0);
    for &pid in pids.iter().filter(|&&p| p > 0) {
        match sys::wait(pid) {
            0 => finished += 1,
            -1 => killed += 1,
            _ => wrong += 1,
        }
    }
    let running = started - finished - killed - wrong;
    check!(
        started == CHILDREN && running == 0 && wrong == 0,
        "all {CHILDREN} children ran to an end, none with wrong memory"
    );
    check!(killed > 0, "the out-of-memory killer ended some of them");
    check!(finished > 0, "the others finished");
    health::still_works();
}
