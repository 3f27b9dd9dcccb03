//! `bench-syscall [N]`: times N null system calls (default 100000) with the
//! TSC and splits the round trip into the kernel's own share (cycles from the
//! generic trap handler's entry to its exit, counted by the kernel) and the
//! rest (the trap into and out of the kernel).
//!
//! Prints one line: `bench-syscall: N calls, round trip C cycles (T ns), kernel R cycles, trap S cycles`.
#![no_std]
#![no_main]

use ulib::{println, sys};

ulib::entry!(main);

fn main(args: &[&str]) -> i32 {
    let n: u64 = args
        .get(1)
        .and_then(|a| a.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(100_000);
    // Warm up the path (TLB, caches) before measuring.
    for _ in 0..1000 {
        sys::null();
    }
    let (Some(before), khz) = (sys::kstats(), sys::tsc_khz()) else {
        println!("bench-syscall: no kernel counters");
        return 1;
    };
    let start = sys::rdtsc();
    for _ in 0..n {
        sys::null();
    }
    let total = sys::rdtsc() - start;
    let Some(after) = sys::kstats() else {
        println!("bench-syscall: no kernel counters");
        return 1;
    };
    // Divide the kernel cycles by the calls the kernel counted (the N null
    // calls and the first kstats call, whose own count lands after it reads).
    let calls = after.syscalls - before.syscalls;
    let kernel = (after.syscall_cycles - before.syscall_cycles) / calls.max(1);
    let round_trip = total / n;
    let ns = (round_trip * 1_000_000).checked_div(khz).unwrap_or(0);
    println!(
        "bench-syscall: {n} calls, round trip {round_trip} cycles ({ns} ns), kernel {kernel} cycles, trap {} cycles",
        round_trip.saturating_sub(kernel)
    );
    0
}
