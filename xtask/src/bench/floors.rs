//! The floors from the minimal guest (`vmm/floor-guest`), measured in the
//! same run as the kernel's figures they judge: a null hypercall, an exit to
//! the VMM process (a port write and an MMIO write: what every virtio request
//! and console write pays), an `int3`
//! round trip from user mode, a user page fault with a handler that only
//! writes the entry, the first touch of an already-mapped page (the
//! hypervisor's shadow fill) and a null system call. The costs of the
//! hypervisor's exits move from day to day on these hosts, so only floors
//! from the same run make a meaningful ratio.

use anyhow::{Context, Result};

use super::faultline_with;
use super::parse::{line_starting, number_before};
use super::plan::{Figures, Plan, Row};
use super::table::cell;
use crate::paths::Paths;

/// The guest's kinds and the sample keys they go to.
const KINDS: [(&str, &str); 7] = [
    ("hypercall", "floor.hypercall"),
    ("port-exit", "floor.port_exit"),
    ("mmio-exit", "floor.mmio_exit"),
    ("int3", "floor.int3"),
    ("page-fault", "floor.fault"),
    ("shadow-fill", "floor.shadow"),
    ("syscall", "floor.syscall"),
];

/// Sample key of the minimal guest's user page fault.
pub const FAULT: &str = "floor.fault";
/// Sample key of the minimal guest's `int3` round trip.
pub const INT3: &str = "floor.int3";
/// Sample key of the minimal guest's null system call.
pub const SYSCALL: &str = "floor.syscall";

/// Runs the floor guest `plan.trap_runs` times with `plan.traps` repetitions
/// (it caps the page kinds at 512 pages). A kind the mode does not measure
/// (the hypercall and the system call in the native mode) stays empty.
pub fn measure(paths: &Paths, plan: &Plan, f: &mut Figures) -> Result<()> {
    let n = plan.traps.to_string();
    let guest = paths.floor_guest_elf();
    for _ in 0..plan.trap_runs {
        let (_, out, _) = faultline_with(paths, &guest, plan.mode, &["-q", "--", "floor", &n])?;
        line_starting(&out, "floor: mode ")
            .with_context(|| format!("the floor guest printed no mode line:\n{out}"))?;
        for (kind, key) in KINDS {
            let line = line_starting(&out, &format!("floor: {kind} "));
            if let Some(cycles) = line.and_then(|l| number_before(l, " cycles each")) {
                f.push(key, cycles);
            }
        }
    }
    Ok(())
}

/// The table rows of the floors.
pub fn rows(a: &Figures, b: &Figures) -> Vec<Row> {
    let titles = [
        "null hypercall",
        "exit to the VMM process, port write",
        "exit to the VMM process, MMIO write",
        "int3 round trip from user",
        "user page fault, minimal handler",
        "first touch of a mapped page (shadow fill)",
        "null syscall",
    ];
    KINDS
        .iter()
        .zip(titles)
        .map(|(&(_, key), title)| {
            (
                format!("floor (minimal guest): {title} (cycles)"),
                cell(a.get(key), 0),
                cell(b.get(key), 0),
            )
        })
        .collect()
}

/// `value / floor` as a ratio cell, `-` when either is missing.
pub fn ratio(value: Option<f64>, floor: Option<f64>) -> String {
    match (value, floor) {
        (Some(v), Some(f)) if f > 0.0 => format!("{:.2}x", v / f),
        _ => "-".into(),
    }
}
