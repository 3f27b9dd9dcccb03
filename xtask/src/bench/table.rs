//! The benchmark table: each row's cells for both modes, the ratio cells,
//! and the note under the table.

use super::boot::PHASES;
use super::faults::{FAULT_NOTE, fault_keys, fault_rows};
use super::ops::EXIT_OPS;
use super::plan::{Figures, Plan, Row, Timed};
use super::{fileio, floors};
use crate::host_fault::HostFault;

/// A cell: the value with `decimals` digits, or `-`.
pub fn cell(value: Option<f64>, decimals: usize) -> String {
    value.map_or_else(|| "-".into(), |v| format!("{v:.decimals$}"))
}

/// A ratio cell `A / B` for `value` over the two floors (the host's minor
/// fault and the minimal guest's page fault).
pub fn ratios(value: Option<f64>, host: f64, fault: Option<f64>) -> String {
    let Some(v) = value else {
        return "-".into();
    };
    let fault = fault.map_or_else(|| "-".into(), |t| format!("{:.2}x", v / t));
    format!("{:.0}x / {fault}", v / host)
}

/// A timed test run's cell: seconds, marked if tests failed.
pub fn timed_cell(t: Option<Timed>) -> String {
    t.map_or_else(
        || "-".into(),
        |t| {
            let mark = if t.passed { "" } else { " (failed)" };
            format!("{:.1}{mark}", t.time.as_secs_f64())
        },
    )
}

/// The whole table as text.
pub fn table(plans: &[Plan; 2], figures: &[Figures], host: &HostFault) -> String {
    let (a, b) = (&figures[0], &figures[1]);
    let mut rows: Vec<Row> = Vec::new();
    let value = |name: &str, key: &str, d: usize| {
        (name.to_string(), cell(a.get(key), d), cell(b.get(key), d))
    };
    rows.push(value(
        "halt: boot to first user instruction (ms)",
        "halt.first_ms",
        2,
    ));
    rows.push(value(
        "halt: whole-VM lifetime, wall (ms)",
        "halt.wall_ms",
        2,
    ));
    rows.push((
        "halt: host phases, --stats (ms)".into(),
        String::new(),
        String::new(),
    ));
    for (key, _, label) in PHASES {
        rows.push(value(label, key, 2));
    }
    rows.push(value(
        "  file-system image, cache miss (built)",
        "phase.image_built",
        2,
    ));
    rows.push(value(
        "null syscall round trip (cycles)",
        "syscall.cycles",
        0,
    ));
    rows.push(value("null syscall round trip (ns)", "syscall.ns", 0));
    rows.push(value("  of which kernel (cycles)", "syscall.kernel", 0));
    rows.push(value(
        "  of which trap and return (cycles)",
        "syscall.trap",
        0,
    ));
    rows.push((
        "  total / minimal-guest null syscall".into(),
        floors::ratio(a.get("syscall.cycles"), a.get(floors::SYSCALL)),
        floors::ratio(b.get("syscall.cycles"), b.get(floors::SYSCALL)),
    ));
    let host_cell = |v: f64| (format!("{v:.0}"), format!("{v:.0}"));
    let (x, y) = host_cell(host.cycles);
    rows.push(("floor: host Linux minor fault (cycles/page)".into(), x, y));
    let (x, y) = host_cell(host.ns);
    rows.push(("floor: host Linux minor fault (ns/page)".into(), x, y));
    rows.extend(floors::rows(a, b));
    rows.push(value(
        "kernel bare trap, int3 round trip (cycles)",
        "trap.cycles",
        0,
    ));
    rows.push(value(
        "kernel bare trap, int3 round trip (ns)",
        "trap.ns",
        0,
    ));
    rows.push((
        "  total / minimal-guest int3".into(),
        floors::ratio(a.get("trap.cycles"), a.get(floors::INT3)),
        floors::ratio(b.get("trap.cycles"), b.get(floors::INT3)),
    ));
    rows.push(value(
        "  PVM-trapping instructions per trap",
        "trap.trapping",
        2,
    ));
    let kinds = [
        ("zero", "zero-fill fault"),
        ("file", "lazy file fault"),
        ("stack", "stack-growth fault"),
        ("swap", "swap-in (+ swap-out)"),
    ];
    for (kind, title) in kinds {
        let keys = fault_keys(kind);
        let total = keys.total;
        rows.extend(fault_rows(title, &keys, value));
        if kind == "swap" {
            rows.push(value("  pages per second (in and out)", "swap.pps", 0));
        }
        rows.push((
            "  total / host minor fault / minimal-guest fault".into(),
            ratios(a.get(total), host.cycles, a.get(floors::FAULT)),
            ratios(b.get(total), host.cycles, b.get(floors::FAULT)),
        ));
    }
    rows.extend(fault_rows("copy-on-write fault", &fault_keys("cow"), value));
    let over_zero = |f: &Figures| {
        let (Some(cow), Some(zero)) = (f.get("cow.total"), f.get("zero.total")) else {
            return "-".to_string();
        };
        format!("{:.2}x", cow / zero)
    };
    rows.push((
        "  total / zero-fill fault total".into(),
        over_zero(a),
        over_zero(b),
    ));
    rows.extend(fileio::rows(a, b, "zero.total", floors::FAULT));
    rows.push(value("mmap write-back per page (cycles)", "mmap.cycles", 0));
    rows.push(value(
        "fork: share per resident page, COW (cycles)",
        "fork.cycles",
        0,
    ));
    rows.push(value(
        "fork + exit + wait, 64 pages resident (cycles)",
        "loop.cycles",
        0,
    ));
    rows.push(value(
        "exit: teardown per resident page (cycles)",
        "exit.cycles",
        0,
    ));
    for (op, key) in EXIT_OPS {
        rows.push(value(&format!("hypercalls per {op}"), key, 2));
    }
    rows.push((
        "guest suite wall time (s)".into(),
        timed_cell(a.suite),
        timed_cell(b.suite),
    ));
    rows.push((
        "vm test group wall time (s)".into(),
        timed_cell(a.vm_group),
        timed_cell(b.vm_group),
    ));

    let mut s = format!(
        "{:<60} {:>16} {:>16}\n",
        "benchmark (median)", plans[0].mode, plans[1].mode
    );
    for (name, x, y) in rows {
        s += &format!("{name:<60} {x:>16} {y:>16}\n");
    }
    s += FAULT_NOTE;
    if let (Some(x), Some(y)) = (a.suite, b.suite) {
        s += &format!(
            "native / {} suite time ratio: {:.1}x\n",
            plans[0].mode,
            y.time.as_secs_f64() / x.time.as_secs_f64()
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::faults::push_fault;
    use crate::bench::parse::line_starting;

    #[test]
    fn cells_and_ratios() {
        assert_eq!(cell(Some(1.234), 2), "1.23");
        assert_eq!(cell(None, 0), "-");
        assert_eq!(
            ratios(Some(10_000.0), 1_000.0, Some(4_000.0)),
            "10x / 2.50x"
        );
        assert_eq!(ratios(Some(10_000.0), 1_000.0, None), "10x / -");
        assert_eq!(ratios(None, 1_000.0, Some(1.0)), "-");
    }

    #[test]
    fn the_table_shows_missing_figures_as_dashes() {
        let mut a = Figures::default();
        a.push("zero.total", 90_000.0);
        a.push("zero.total", 80_000.0);
        a.push("zero.total", 85_000.0);
        a.push("floor.fault", 75_000.0);
        let plans = [Plan::auto(21, false), Plan::native(21, false)];
        let host = HostFault {
            cycles: 1_000.0,
            ns: 400.0,
        };
        let t = table(&plans, &[a, Figures::default()], &host);
        let zero = line_starting(&t, "zero-fill fault, total").unwrap();
        assert!(
            zero.contains("85000") && zero.trim_end().ends_with('-'),
            "{zero}"
        );
        let ratio = t
            .lines()
            .find(|l| l.contains("85x / 1.13x"))
            .expect("the zero-fill ratio row");
        assert!(ratio.trim_end().ends_with('-'), "{ratio}");
        assert!(t.contains("floor: host Linux minor fault (cycles/page)"));
    }

    #[test]
    fn swap_in_figures_add_up_per_page() {
        // A real run: 8192 pages touched, 1029 swap-in faults of ~8 pages.
        let out = "bench-fault: swap 8192 faults, 131824 cycles/fault (53906 ns), 18550 pages/s\n";
        let profile = "\
faultline: fault profile: 5138 faults, 3607 spans (TSC 2.445 GHz)
  fault kind        count    p50 cyc        µs    p90 cyc        µs    p99 cyc        µs    max cyc        µs   mean µs
  lazy-anon          4097       2034      0.83      13411      5.48     685607    280.36   22709760   9286.63     33.12
  swap-in            1029     327293    133.84     552627    225.98   12582912   5145.49   27197572  11121.81    357.45
  stage share          entry   lock-wait      lookup frame-alloc    eviction        fill         map      return
";
        let mut f = Figures::default();
        push_fault(&mut f, "swap", out, profile, "swap-in").unwrap();
        let total = f.get("swap.total").unwrap();
        let kernel = f.get("swap.page").unwrap();
        assert!(
            kernel < total,
            "{kernel} per page in the kernel > {total} in all"
        );
        assert!((kernel - 1029.0 * 357_450.0 * 2.445 / 8192.0).abs() < 1.0);
        assert_eq!(f.get("swap.kernel"), Some(327_293.0));
        assert!((f.get("swap.fpp").unwrap() - 1029.0 / 8192.0).abs() < 1e-9);
        assert!(push_fault(&mut f, "swap", out, "no profile", "swap-in").is_err());
        let plans = [Plan::auto(21, false), Plan::native(21, false)];
        let host = HostFault {
            cycles: 1_000.0,
            ns: 400.0,
        };
        let t = table(&plans, &[f, Figures::default()], &host);
        for row in [
            "swap-in (+ swap-out), total per page (cycles)",
            "  of which kernel handler, mean per page (cycles)",
            "  faults per page",
        ] {
            assert!(t.contains(row), "no `{row}` in\n{t}");
        }
        assert!(t.contains(FAULT_NOTE));
    }
}
