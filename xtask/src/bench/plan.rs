//! One CPU mode's plan (how many runs and what sizes of each measurement)
//! and the figures it records: samples by name and the timed test runs.

use std::collections::BTreeMap;
use std::time::Duration;

use super::parse::median;

/// How much of each measurement one CPU mode does.
pub struct Plan {
    pub mode: &'static str,
    pub halt_runs: usize,
    pub syscall_runs: usize,
    pub syscalls: usize,
    /// Runs and pages of `bench-fault all` (zero, file and stack faults).
    pub fault_runs: usize,
    pub fault_pages: usize,
    /// Runs of `bench-fault swap`; 0 skips it.
    pub swap_runs: usize,
    pub trap_runs: usize,
    pub traps: usize,
    pub mmap_runs: usize,
    pub mmap_pages: usize,
    /// Runs of `bench-fork fork` and `bench-fork exit`, pages, forks per run.
    pub fork_runs: usize,
    pub fork_pages: usize,
    pub fork_repeats: usize,
}

impl Plan {
    /// The PVM guest mode (`auto` on these hosts): fast, so many runs.
    pub fn auto(runs: usize, quick: bool) -> Plan {
        let few = (runs / 4).clamp(3, 7);
        Plan {
            mode: "auto",
            halt_runs: runs,
            syscall_runs: runs.clamp(3, 7),
            syscalls: if quick { 20_000 } else { 200_000 },
            fault_runs: few,
            fault_pages: if quick { 128 } else { 512 },
            swap_runs: if quick { 1 } else { 3 },
            trap_runs: few,
            traps: if quick { 2_000 } else { 10_000 },
            mmap_runs: few,
            mmap_pages: if quick { 64 } else { 256 },
            fork_runs: few,
            fork_pages: 512,
            fork_repeats: if quick { 3 } else { 5 },
        }
    }

    /// The emulated native mode (~1 µs per kernel instruction here): a few
    /// runs of small sizes, no swap (thousands of faults of ~1 ms each).
    pub fn native(runs: usize, quick: bool) -> Plan {
        let few = if quick { 1 } else { 3 };
        Plan {
            mode: "native",
            halt_runs: (runs / 5).max(few),
            syscall_runs: few,
            syscalls: if quick { 500 } else { 2_000 },
            fault_runs: few,
            fault_pages: if quick { 16 } else { 64 },
            swap_runs: 0,
            trap_runs: few,
            traps: if quick { 50 } else { 200 },
            mmap_runs: few,
            mmap_pages: if quick { 4 } else { 16 },
            fork_runs: few,
            fork_pages: 256,
            fork_repeats: 1,
        }
    }
}

/// A timed `cargo test` run.
#[derive(Clone, Copy)]
pub struct Timed {
    pub time: Duration,
    pub passed: bool,
}

/// One mode's samples by name (e.g. `zero.total`), and its timed test runs.
#[derive(Default)]
pub struct Figures {
    pub samples: BTreeMap<&'static str, Vec<f64>>,
    pub suite: Option<Timed>,
    pub vm_group: Option<Timed>,
}

impl Figures {
    pub fn push(&mut self, key: &'static str, value: f64) {
        self.samples.entry(key).or_default().push(value);
    }

    pub fn get(&self, key: &str) -> Option<f64> {
        median(self.samples.get(key)?)
    }
}

/// One table row: the name and the two modes' cells.
pub type Row = (String, String, String);
