//! The file-system block cache's rows (`bench-fileio`): reads of a file the
//! host put into the image (so nothing of it is cached at boot) one 4 KiB
//! `read` at a time, the first time (from the disk, filling the cache) and
//! again (from the cache); lazy file faults on a mapping of it, the same
//! way; and the `syn-read` workload (ten children reading one 1 KiB file at
//! once, one byte per `read`), timed inside the guest.

use std::fs;

use anyhow::{Context, Result};

use super::faultline;
use super::parse::{line_starting, number_after};
use super::plan::{Figures, Plan, Row};
use super::table::cell;
use crate::paths::Paths;

/// Pages of the file read: at most half of the block cache's share of the
/// kernel pool (1 MiB at the default `--mem 64M`), which it holds whenever
/// the heap can give it.
const MAX_PAGES: usize = 128;

/// The cold and warm figures of one `bench-fileio KIND` line.
fn cold_warm(out: &str, kind: &str) -> Result<(f64, f64)> {
    let line = line_starting(out, &format!("bench-fileio: {kind} "))
        .with_context(|| format!("no bench-fileio {kind} line in:\n{out}"))?;
    let get = |key| number_after(line, key).with_context(|| format!("no `{key}` in `{line}`"));
    Ok((get("cold ")?, get("warm ")?))
}

/// Runs `bench-fileio read`, `fault` (`plan.fault_runs` times each, on a
/// file of up to 128 pages) and, in the PVM guest mode, `syn` (in the
/// emulated native mode its 10,240 system calls take half a minute).
pub fn measure(paths: &Paths, plan: &Plan, f: &mut Figures) -> Result<()> {
    let pages = plan.fault_pages.min(MAX_PAGES);
    let file = paths.target.join("bench-fileio.dat");
    let bytes: Vec<u8> = (0..pages * 4096).map(|i| (i % 251) as u8).collect();
    fs::write(&file, bytes).with_context(|| format!("cannot write {}", file.display()))?;
    let put = format!("{}:bench.dat", file.display());
    for _ in 0..plan.fault_runs {
        for (kind, cold, warm) in [
            ("read", "fileio.read_cold", "fileio.read_warm"),
            ("fault", "fileio.fault_cold", "fileio.fault_warm"),
        ] {
            let args = ["-q", "--put", &put, "--", "bench-fileio", kind, "bench.dat"];
            let (_, out, _) = faultline(paths, plan.mode, &args)?;
            let (c, w) = cold_warm(&out, kind)?;
            f.push(cold, c);
            f.push(warm, w);
        }
        if plan.mode == "auto" {
            let (_, out, _) = faultline(paths, plan.mode, &["-q", "--", "bench-fileio", "syn"])?;
            let us = line_starting(&out, "bench-fileio: syn ")
                .and_then(|l| number_after(l, "cycles ("))
                .with_context(|| format!("no bench-fileio syn line in:\n{out}"))?;
            f.push("fileio.syn_ms", us / 1e3);
        }
    }
    Ok(())
}

/// The table rows of the block cache; the warm lazy file fault is compared
/// with the zero-fill fault of the same mode (sample `zero_fill`) and with
/// the minimal guest's page fault (`floor`).
pub fn rows(a: &Figures, b: &Figures, zero_fill: &str, floor: &str) -> Vec<Row> {
    let value = |name: &str, key: &str, d: usize| {
        (name.to_string(), cell(a.get(key), d), cell(b.get(key), d))
    };
    let ratios = |f: &Figures| {
        let warm = f.get("fileio.fault_warm");
        format!(
            "{} / {}",
            super::floors::ratio(warm, f.get(zero_fill)),
            super::floors::ratio(warm, f.get(floor))
        )
    };
    vec![
        value(
            "file read per 4 KiB, cold: disk (cycles)",
            "fileio.read_cold",
            0,
        ),
        value(
            "file read per 4 KiB, warm: cache (cycles)",
            "fileio.read_warm",
            0,
        ),
        value(
            "lazy file fault, cold: disk (cycles)",
            "fileio.fault_cold",
            0,
        ),
        value(
            "lazy file fault, warm: cache (cycles)",
            "fileio.fault_warm",
            0,
        ),
        (
            "  warm / zero-fill fault / minimal-guest fault".into(),
            ratios(a),
            ratios(b),
        ),
        value(
            "syn-read: 10 children, 1 KiB byte by byte (ms)",
            "fileio.syn_ms",
            1,
        ),
    ]
}
