//! `overcommit [N]`: N processes (default 64), each with an 8-page file
//! mapping it reads and 48 stack pages it writes, in a user pool and swap
//! disk that together hold fewer pages than they need (64 with `--user-mem
//! 4M --swap 8M`; 16 with `--user-mem 1M --swap 2M`). Left
//! alone they would evict each other's code and file pages forever; the
//! kernel must see that reclaim no longer makes progress and kill some of
//! them (`faultline: out of memory: killing ...`), so that the others finish
//! with their memory intact. All 64 are forked before any starts its work
//! (they wait for the file `go`), so that `fork`'s own check of free memory
//! cannot hold the load back, and each writes all its pages once, then waits
//! until every child still alive has done so (`go2`): together they need
//! more than there is, whatever the scheduling, so some must be killed.
//! Every wait yields the CPU between its tries (faultline's `yield`): a
//! waiter that spun through its time slice instead kept faulting its code
//! back in against the others, so the run took 0.15 to 0.5 s (and more on a
//! busy host) where it now takes ~40 ms.
#![no_std]
#![no_main]

use core::hint::black_box;
use ulib::vmtest::{PAGE, fill_pattern, pattern_byte};
use ulib::{check, fail, health, sys};

ulib::test_main!(body);

/// Most children.
const CHILDREN: usize = 64;
const MAP_PAGES: usize = 8;
const STACK_PAGES: usize = 48;
const MAP_AT: usize = 0x1000_0000;
const SEED: u64 = 0xc033;
const ROUNDS: usize = 4;

/// The child's work: verify the mapping, write the stack pages, go over
/// everything a few times; exits 0 if every byte was right.
fn child(index: usize) -> ! {
    wait_for(c"go");
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
        if round == 0 {
            arrive(index);
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

/// Records that child `index` holds all its pages, and waits for the others.
fn arrive(index: usize) {
    let fd = sys::open(c"arrived.dat");
    sys::seek(fd, index as u32);
    sys::write(fd, &[1]);
    sys::close(fd);
    wait_for(c"go2");
}

/// Waits until the file `name` exists, yielding the CPU between tries, so
/// that sixteen or sixty-four waiting children do not each spin through a
/// whole time slice while the process they wait for is ready to run.
fn wait_for(name: &core::ffi::CStr) {
    loop {
        let fd = sys::open(name);
        if fd >= 0 {
            sys::close(fd);
            return;
        }
        sys::yield_now();
    }
}

/// Waits until every child still alive has arrived, then lets them go on.
fn release(children: usize) {
    check!(
        sys::create(c"arrived.dat", CHILDREN as u32),
        "create \"arrived.dat\""
    );
    check!(sys::create(c"go", 1), "create \"go\": the children start");
    let fd = sys::open(c"arrived.dat");
    let mut arrived = [0u8; CHILDREN];
    loop {
        sys::seek(fd, 0);
        sys::read(fd, &mut arrived);
        let here = arrived.iter().filter(|&&a| a == 1).count();
        let alive = sys::memstats().map_or(children, |m| m.processes as usize - 1);
        if here + (children - alive.min(children)) >= children {
            break;
        }
        sys::yield_now();
    }
    sys::close(fd);
    check!(
        sys::create(c"go2", 1),
        "create \"go2\": every child alive holds its pages"
    );
}

fn body(args: &[&str]) {
    let children = args
        .get(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(CHILDREN)
        .min(CHILDREN);
    let len = MAP_PAGES * PAGE;
    check!(sys::create(c"oc.dat", len as u32), "create \"oc.dat\"");
    let fd = sys::open(c"oc.dat");
    let mut page = [0u8; PAGE];
    for p in 0..MAP_PAGES {
        fill_pattern(&mut page, SEED, (p * PAGE) as u64);
        sys::write(fd, &page);
    }
    sys::close(fd);
    let mut pids = [0i32; CHILDREN];
    for (i, pid) in pids.iter_mut().take(children).enumerate() {
        *pid = sys::fork(c"oc-child");
        if *pid == 0 {
            child(i);
        }
    }
    let started = pids.iter().filter(|&&p| p > 0).count();
    // Too small a `--mem` has room for fewer processes (16 at the least).
    if started != children {
        fail!(
            "forked only {started} of {children} children (a larger --mem allows more processes)"
        );
    }
    release(started);
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
        running == 0 && wrong == 0,
        "all {children} children ran to an end, none with wrong memory"
    );
    check!(killed > 0, "the out-of-memory killer ended some of them");
    check!(finished > 0, "the others finished");
    health::still_works();
}
