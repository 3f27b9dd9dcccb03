//! The fault measurements: zero-fill, lazy file and stack-growth faults
//! (`bench-fault all`), swap-out + swap-in (`bench-fault swap`) and
//! copy-on-write faults (`bench-fault cow`), each timed by the program and
//! split by the kernel's `--profile` table of the same run; and their rows.

use anyhow::{Context, Result};

use super::parse::{profile_row, profile_tsc_ghz};
use super::plan::{Figures, Plan, Row};
use super::{faultline, figure};
use crate::paths::Paths;

/// The fault kinds of `bench-fault all`: (its name, the profile's name).
const FAULT_KINDS: [(&str, &str); 3] = [
    ("zero", "lazy-anon"),
    ("file", "lazy-file"),
    ("stack", "stack-growth"),
];

/// Sample keys of a fault kind.
pub struct FaultKeys {
    /// Cycles per page touched, timed by the program around its loop.
    pub total: &'static str,
    /// The kernel's time per page touched: the `--profile` table's
    /// count x mean of the kind, over the pages the program touched.
    pub per_page: &'static str,
    /// The kernel's p50 latency per fault (trap entry to trap return).
    pub p50: &'static str,
    /// Faults of the kind per page touched (a swap-in brings in a run).
    pub faults_per_page: &'static str,
}

pub fn fault_keys(kind: &str) -> FaultKeys {
    let k = |total, per_page, p50, faults_per_page| FaultKeys {
        total,
        per_page,
        p50,
        faults_per_page,
    };
    match kind {
        "zero" => k("zero.total", "zero.page", "zero.kernel", "zero.fpp"),
        "file" => k("file.total", "file.page", "file.kernel", "file.fpp"),
        "stack" => k("stack.total", "stack.page", "stack.kernel", "stack.fpp"),
        "cow" => k("cow.total", "cow.page", "cow.kernel", "cow.fpp"),
        _ => k("swap.total", "swap.page", "swap.kernel", "swap.fpp"),
    }
}

/// Records the figures of fault kind `kind` (`profile_kind` in the profile)
/// from the program's `bench-fault: KIND N faults, C cycles/fault` line
/// (N: pages touched) and the `--profile` report of the same run.
pub fn push_fault(
    f: &mut Figures,
    kind: &str,
    out: &str,
    profile: &str,
    profile_kind: &str,
) -> Result<()> {
    let keys = fault_keys(kind);
    let prefix = format!("bench-fault: {kind} ");
    let pages = figure(out, &prefix, " faults")?;
    f.push(keys.total, figure(out, &prefix, " cycles/fault")?);
    let row = profile_row(profile, profile_kind)
        .with_context(|| format!("no {profile_kind} row in the profile:\n{profile}"))?;
    let ghz = profile_tsc_ghz(profile)
        .with_context(|| format!("no TSC rate in the profile:\n{profile}"))?;
    f.push(keys.p50, row.p50 as f64);
    if pages > 0.0 {
        f.push(keys.per_page, row.total_cycles(ghz) / pages);
        f.push(keys.faults_per_page, row.count as f64 / pages);
    }
    Ok(())
}

/// The rows of one fault kind: the program's cycles per page touched, the
/// kernel handler's part of them, and the handler's p50 per fault with the
/// faults per page that relate the two (see [`FAULT_NOTE`]).
pub fn fault_rows(
    title: &str,
    keys: &FaultKeys,
    value: impl Fn(&str, &str, usize) -> Row,
) -> Vec<Row> {
    vec![
        value(&format!("{title}, total per page (cycles)"), keys.total, 0),
        value(
            "  of which kernel handler, mean per page (cycles)",
            keys.per_page,
            0,
        ),
        value("  kernel handler per fault, p50 (cycles)", keys.p50, 0),
        value("  faults per page", keys.faults_per_page, 2),
    ]
}

/// How the fault rows relate, printed under the table.
pub const FAULT_NOTE: &str = "\
faults: `total per page` is the program's loop time over the pages it touched;
  `of which kernel handler` is the --profile table's count x mean latency (trap
  entry to trap return) over the same pages, so it is at most the total: the
  rest is trap delivery and return and shadow-page fills (hypervisor time in the
  PVM mode) and the loop itself; `per fault, p50` is a median per fault, and a
  swap-in fault brings in a run of pages (`faults per page` < 1), so it can
  exceed the total per page.
";

pub fn faults(paths: &Paths, plan: &Plan, f: &mut Figures) -> Result<()> {
    let pages = plan.fault_pages.to_string();
    for _ in 0..plan.fault_runs {
        let args = ["-q", "--profile", "--", "bench-fault", "all", &pages];
        let (_, out, profile) = faultline(paths, plan.mode, &args)?;
        for (kind, profile_kind) in FAULT_KINDS {
            push_fault(f, kind, &out, &profile, profile_kind)?;
        }
    }
    Ok(())
}

pub fn swap(paths: &Paths, plan: &Plan, f: &mut Figures) -> Result<()> {
    for _ in 0..plan.swap_runs {
        let args = [
            "-q",
            "--profile",
            "--user-mem",
            "8M",
            "--swap",
            "64M",
            "--",
            "bench-fault",
            "swap",
        ];
        let (_, out, profile) = faultline(paths, plan.mode, &args)?;
        push_fault(f, "swap", &out, &profile, "swap-in")?;
        f.push("swap.pps", figure(&out, "bench-fault: swap ", " pages/s")?);
    }
    Ok(())
}

pub fn cow(paths: &Paths, plan: &Plan, f: &mut Figures) -> Result<()> {
    let pages = plan.fault_pages.to_string();
    for _ in 0..plan.fault_runs {
        let args = ["-q", "--profile", "--", "bench-fault", "cow", &pages];
        let (_, out, profile) = faultline(paths, plan.mode, &args)?;
        push_fault(f, "cow", &out, &profile, "copy-on-write")?;
    }
    Ok(())
}
