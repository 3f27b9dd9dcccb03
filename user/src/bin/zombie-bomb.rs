//! `zombie-bomb`: forks children that exit at once and never waits for
//! them, until `fork` fails. Every status must still be there to collect
//! (the exit records are kept until the parent waits), `fork` must fail
//! cleanly with -1 before the kernel runs out, and once the statuses are
//! collected the kernel works as before.
#![no_std]
#![no_main]

use core::cell::UnsafeCell;
use ulib::{check, health, sys};

ulib::test_main!(body);

/// More children than any process limit allows.
const MAX_CHILDREN: usize = 8192;
/// Children the smallest process limit leaves room for: 16 processes (live
/// or with a status not yet collected) at the smallest `--mem`, less this one.
const MIN_CHILDREN: usize = 15;
/// What each child exits with.
const STATUS: i32 = 7;

struct Pids(UnsafeCell<[i32; MAX_CHILDREN]>);
// SAFETY: the process is single-threaded.
unsafe impl Sync for Pids {}
static PIDS: Pids = Pids(UnsafeCell::new([0; MAX_CHILDREN]));

fn body(_args: &[&str]) {
    // SAFETY: the only reference to the array.
    let pids = unsafe { &mut *PIDS.0.get() };
    let mut n = 0;
    while n < MAX_CHILDREN {
        let pid = sys::fork(c"zombie");
        if pid == 0 {
            sys::exit(STATUS);
        }
        if pid < 0 {
            break;
        }
        pids[n] = pid;
        n += 1;
    }
    check!(
        (MIN_CHILDREN..MAX_CHILDREN).contains(&n),
        "fork failed cleanly after at least {MIN_CHILDREN} children were left unwaited"
    );
    let kept = pids[..n].iter().all(|&pid| sys::wait(pid) == STATUS);
    check!(kept, "every child's status was kept until collected");
    health::still_works();
}
