//! `bench-exits [ROUNDS]`: how many privileged operations the kernel asks of
//! the host (hypercalls in the PVM guest mode: CR3 loads, TLB flushes, MSR
//! writes, halts) per `fork` + `exit` + `wait`, per `exec`, per context
//! switch, per zero-fill fault and per copy-on-write fault, from the
//! kernel's counters (`KernelStats`). One line per operation:
//! `bench-exits: OP: A set-cr3, B flush-all, C flush-page, D write-msr, E halt, F switches`
//! (averages per operation).
#![no_std]
#![no_main]

use abi::syscall::KernelStats;
use ulib::vmtest::{PAGE, PageArray};
use ulib::{println, sys};

ulib::entry!(main);

const PAGES: usize = 256;
static ARRAY: PageArray<{ PAGES * PAGE }> = PageArray::zeroed();

fn stats() -> KernelStats {
    sys::kstats().unwrap_or_default()
}

fn counts(s: &KernelStats) -> [u64; 6] {
    [
        s.set_cr3,
        s.flush_all,
        s.flush_page,
        s.write_msr,
        s.halt,
        s.context_switches,
    ]
}

/// Prints the average of the counters' growth over `n` operations.
fn report(op: &str, before: &KernelStats, after: &KernelStats, n: usize) {
    let (b, a) = (counts(before), counts(after));
    let per: [f64; 6] = core::array::from_fn(|i| (a[i] - b[i]) as f64 / n.max(1) as f64);
    println!(
        "bench-exits: {op}: {:.2} set-cr3, {:.2} flush-all, {:.2} flush-page, {:.2} write-msr, {:.2} halt, {:.2} switches",
        per[0], per[1], per[2], per[3], per[4], per[5]
    );
}

fn fork_wait(rounds: usize, exec: bool) {
    let before = stats();
    for _ in 0..rounds {
        let pid = sys::fork(c"child");
        if pid == 0 {
            if exec {
                sys::exec(c"exit");
            }
            sys::exit(0);
        }
        sys::wait(pid);
    }
    let after = stats();
    let op = if exec {
        "fork + exec + exit + wait"
    } else {
        "fork + exit + wait"
    };
    report(op, &before, &after, rounds);
}

/// Two processes that never block share the CPU for a while.
fn switches() {
    let pid = sys::fork(c"spinner");
    let spin = |cycles: u64| {
        let end = sys::rdtsc() + cycles;
        while sys::rdtsc() < end {}
    };
    let khz = sys::tsc_khz().max(1);
    if pid == 0 {
        spin(300 * khz);
        sys::exit(0);
    }
    let before = stats();
    spin(200 * khz);
    let after = stats();
    sys::wait(pid);
    let n = (after.context_switches - before.context_switches) as usize;
    report("context switch", &before, &after, n);
}

fn faults() {
    // SAFETY: the only reference to the array.
    let buf = unsafe { ARRAY.get() };
    let half = PAGES / 2;
    let before = stats();
    for page in buf.chunks_mut(PAGE).take(half) {
        page[0] = 1;
    }
    let after = stats();
    report("zero-fill fault", &before, &after, half);
    let pid = sys::fork(c"cow");
    if pid == 0 {
        let before = stats();
        for page in buf.chunks_mut(PAGE).take(half) {
            page[0] = 2;
        }
        let after = stats();
        report("copy-on-write fault", &before, &after, half);
        sys::exit(0);
    }
    sys::wait(pid);
}

fn main(args: &[&str]) -> i32 {
    let rounds = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(50usize);
    fork_wait(rounds, false);
    fork_wait(rounds, true);
    switches();
    faults();
    0
}
