//! `bench-trap [N]`: the bare cost of a trap on this VM. Turns on the
//! kernel's trap benchmark (`sys::trap_bench(true)`: a breakpoint returns to
//! the next instruction at once), then times N `int3` instructions (default
//! 10000) with the TSC: the trap into the kernel, its dispatch to a handler
//! that does nothing, and the return to user mode.
//!
//! Prints one line: `bench-trap: N traps, C cycles/trap (T ns), X trapping
//! instructions/trap` (X: the privileged instructions the kernel executed per
//! trap that the PVM host had to exit for and emulate, from `KernelStats`;
//! always 0 in the native mode, where the kernel does not count them).
#![no_std]
#![no_main]

use core::arch::asm;

use ulib::{println, sys};

ulib::entry!(main);

/// One breakpoint trap.
#[inline(always)]
fn int3() {
    // SAFETY: with the trap benchmark on, the kernel returns from the
    // breakpoint to the next instruction with every register preserved.
    unsafe { asm!("int3", options(nostack)) };
}

fn main(args: &[&str]) -> i32 {
    let n: u64 = args
        .get(1)
        .and_then(|a| a.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(10_000);
    if sys::trap_bench(true) != 0 {
        println!("bench-trap: the kernel has no trap benchmark");
        return 1;
    }
    // Warm up the path (TLB, caches) before measuring.
    for _ in 0..n.min(100) {
        int3();
    }
    let trapping = || sys::kstats().map_or(0, |s| s.pvm_trapping_instructions);
    let before = trapping();
    let start = sys::rdtsc();
    for _ in 0..n {
        int3();
    }
    let per = (sys::rdtsc() - start) / n;
    let trapping_per = (trapping() - before) as f64 / n as f64;
    sys::trap_bench(false);
    let ns = per * 1_000_000 / sys::tsc_khz().max(1);
    println!(
        "bench-trap: {n} traps, {per} cycles/trap ({ns} ns), {trapping_per:.2} trapping instructions/trap"
    );
    0
}
