//! `fd-bomb`: a tree of processes, each holding every descriptor it can open
//! (up to the per-process limit of 1024) before it forks two children, so
//! that every fork copies a full descriptor table. Deep enough that kernel
//! memory or the process table runs out: `open` and `fork` must then fail
//! with -1, never crash the kernel. The root checks that some fork failed
//! and that the kernel works afterwards.
#![no_std]
#![no_main]

use ulib::{check, health, sys};

ulib::test_main!(body);

/// Levels of the tree below the root.
const DEPTH: u32 = 7;
/// Exit-status bits a subtree reports.
const FORK_FAILED: i32 = 1;
const OPENED_MANY: i32 = 2;

/// Opens `sample.txt` until `open` fails or 1200 tries; returns how many opened.
fn open_all() -> usize {
    let mut n = 0;
    while n < 1200 && sys::open(c"sample.txt") >= 0 {
        n += 1;
    }
    n
}

/// Fills the descriptor table, forks two subtrees and collects them;
/// returns the status bits of this subtree.
fn grow(level: u32) -> i32 {
    let mut bits = if open_all() >= 100 { OPENED_MANY } else { 0 };
    if level == DEPTH {
        return bits;
    }
    let mut pids = [-1; 2];
    for pid in &mut pids {
        *pid = sys::fork(c"fd-bomb");
        if *pid == 0 {
            sys::exit(grow(level + 1));
        }
        if *pid < 0 {
            bits |= FORK_FAILED;
        }
    }
    for pid in pids {
        if pid > 0 {
            let status = sys::wait(pid);
            if status >= 0 {
                bits |= status;
            }
        }
    }
    bits
}

fn body(_args: &[&str]) {
    let pid = sys::fork(c"fd-bomb");
    if pid == 0 {
        sys::exit(grow(0));
    }
    let bits = sys::wait(pid);
    check!(
        bits >= 0 && bits & OPENED_MANY != 0,
        "processes held hundreds of descriptors each"
    );
    check!(
        bits >= 0 && bits & FORK_FAILED != 0,
        "fork failed cleanly once memory ran out"
    );
    health::still_works();
}
