//! The `--profile` report printed after a run: a latency table per fault kind
//! (count, p50/p90/p99/max in cycles and µs), each kind's share of time per
//! stage, eviction and I/O spans, the processes with the most faults, VM exits
//! by reason with the host time spent serving them, and the recorder's own
//! cost.

use std::fmt::Write as _;

use abi::profile::{FaultKind, HIST_SUB, Latency, SpanKind, Stage, name_bytes};

use crate::profile::Profile;
use crate::stats::{ExitKind, Stats};

/// Processes listed at most.
const TOP_PROCESSES: usize = 10;

/// The whole report.
pub fn render(p: &Profile, stats: &Stats) -> String {
    let mut s = String::new();
    let h = p.header();
    let _ = writeln!(
        s,
        "faultline: fault profile: {} faults, {} spans (TSC {:.3} GHz)",
        h.faults,
        h.spans,
        p.tsc_khz() as f64 / 1e6
    );
    faults(&mut s, p);
    stages(&mut s, p);
    spans(&mut s, p);
    processes(&mut s, p);
    exits(&mut s, stats);
    overhead(&mut s, p, stats);
    s
}

/// `p50 cyc  p50 µs` cells for one quantile.
fn quantile_cells(p: &Profile, l: &Latency, q: f64) -> String {
    let c = l.quantile(q).unwrap_or(0);
    format!("{c:>10} {:>9.2}", p.micros(c))
}

fn faults(s: &mut String, p: &Profile) {
    let _ = writeln!(
        s,
        "  {:<14} {:>8} {:>10} {:>9} {:>10} {:>9} {:>10} {:>9} {:>10} {:>9} {:>9}",
        "fault kind",
        "count",
        "p50 cyc",
        "µs",
        "p90 cyc",
        "µs",
        "p99 cyc",
        "µs",
        "max cyc",
        "µs",
        "mean µs"
    );
    let mut any = false;
    for kind in FaultKind::ALL {
        let l = &p.buf().kinds[kind as usize].latency;
        if l.count == 0 {
            continue;
        }
        any = true;
        let mean = l.total_cycles / l.count;
        let _ = writeln!(
            s,
            "  {:<14} {:>8} {} {} {} {} {:>9.2}",
            kind.name(),
            l.count,
            quantile_cells(p, l, 0.5),
            quantile_cells(p, l, 0.9),
            quantile_cells(p, l, 0.99),
            format_args!("{:>10} {:>9.2}", l.max_cycles, p.micros(l.max_cycles)),
            p.micros(mean)
        );
    }
    if !any {
        let _ = writeln!(s, "  (no page faults recorded)");
    }
    let _ = writeln!(
        s,
        "  percentiles at histogram resolution ({HIST_SUB} buckets per power of two: within 25%); latency = trap entry to trap return"
    );
}

fn stages(s: &mut String, p: &Profile) {
    let mut head = format!("  {:<14}", "stage share");
    for st in Stage::ALL {
        let _ = write!(head, " {:>11}", st.name());
    }
    let mut rows = String::new();
    for kind in FaultKind::ALL {
        let k = &p.buf().kinds[kind as usize];
        let total: u64 = k.stage_cycles.iter().sum();
        if k.latency.count == 0 || total == 0 {
            continue;
        }
        let _ = write!(rows, "  {:<14}", kind.name());
        for st in Stage::ALL {
            let share = k.stage_cycles[st as usize] as f64 * 100.0 / total as f64;
            let _ = write!(rows, " {:>10.1}%", share);
        }
        rows.push('\n');
    }
    if !rows.is_empty() {
        let _ = writeln!(s, "{head}");
        s.push_str(&rows);
    }
}

fn spans(s: &mut String, p: &Profile) {
    let mut rows = String::new();
    for kind in SpanKind::ALL {
        let l = &p.buf().span_kinds[kind as usize];
        if l.count == 0 {
            continue;
        }
        let q = |q: f64| p.micros(l.quantile(q).unwrap_or(0));
        let _ = writeln!(
            rows,
            "  {:<14} {:>8} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>10.3}",
            kind.name(),
            l.count,
            p.micros(l.total_cycles / l.count),
            q(0.5),
            q(0.99),
            p.micros(l.max_cycles),
            p.micros(l.total_cycles) / 1e3
        );
    }
    if !rows.is_empty() {
        let _ = writeln!(
            s,
            "  {:<14} {:>8} {:>9} {:>9} {:>9} {:>9} {:>10}",
            "span", "count", "mean µs", "p50 µs", "p99 µs", "max µs", "total ms"
        );
        s.push_str(&rows);
    }
}

fn processes(s: &mut String, p: &Profile) {
    let procs = p.processes();
    if procs.is_empty() {
        return;
    }
    let _ = writeln!(
        s,
        "  {:>6} {:<16} {:>8} {:>10}  faults by kind",
        "pid", "process", "faults", "fault ms"
    );
    for proc in procs.iter().take(TOP_PROCESSES) {
        let by_kind: Vec<String> = FaultKind::ALL
            .iter()
            .filter(|k| proc.faults[**k as usize] != 0)
            .map(|k| format!("{} {}", k.name(), proc.faults[*k as usize]))
            .collect();
        let _ = writeln!(
            s,
            "  {:>6} {:<16} {:>8} {:>10.3}  {}",
            proc.pid,
            String::from_utf8_lossy(name_bytes(&proc.name)),
            proc.faults.iter().sum::<u64>(),
            p.micros(proc.fault_cycles) / 1e3,
            by_kind.join(", ")
        );
    }
    if procs.len() > TOP_PROCESSES {
        let _ = writeln!(s, "  ... and {} more", procs.len() - TOP_PROCESSES);
    }
    let recycled = p.header().procs_recycled;
    if recycled != 0 {
        let _ = writeln!(
            s,
            "  ({recycled} process slots were recycled: the table keeps the most recent processes)"
        );
    }
}

fn exits(s: &mut String, stats: &Stats) {
    let _ = writeln!(
        s,
        "  {:<22} {:>8} {:>10} {:>9}   (host time serving the exit)",
        "VM exit", "count", "total ms", "mean µs"
    );
    for kind in ExitKind::ALL {
        let n = stats.exits(kind);
        if n == 0 {
            continue;
        }
        let t = stats.exit_time(kind);
        let _ = writeln!(
            s,
            "  {:<22} {:>8} {:>10.3} {:>9.2}",
            kind.name(),
            n,
            t.as_secs_f64() * 1e3,
            t.as_secs_f64() * 1e6 / n as f64
        );
    }
    let _ = writeln!(
        s,
        "  time: guest (in KVM_RUN) {:.3} ms, VMM {:.3} ms",
        stats.guest_time.as_secs_f64() * 1e3,
        stats.vmm_time().as_secs_f64() * 1e3
    );
}

fn overhead(s: &mut String, p: &Profile, stats: &Stats) {
    let h = p.header();
    let events = h.faults + h.spans;
    let per_event = h.overhead_cycles.checked_div(events).unwrap_or(0);
    let run_us = stats.run_time.as_secs_f64() * 1e6;
    let share = if run_us > 0.0 {
        p.micros(h.overhead_cycles) * 100.0 / run_us
    } else {
        0.0
    };
    let _ = writeln!(
        s,
        "  recorder overhead: {} cycles ({:.3} ms), {per_event} cycles per recorded event, {share:.2}% of the run (rdtsc costs {} cycles)",
        h.overhead_cycles,
        p.micros(h.overhead_cycles) / 1e3,
        h.rdtsc_cycles
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::zeroed_buf;
    use abi::profile::{Header, PROFILE_MAGIC, PROFILE_VERSION, ProcStats, ProfileBuf, name_field};
    use std::time::Duration;

    #[test]
    fn the_table_shows_kinds_stages_spans_processes_and_exits() {
        let mut buf = zeroed_buf();
        buf.header = Header {
            magic: PROFILE_MAGIC,
            version: PROFILE_VERSION,
            enabled: 1,
            size: ProfileBuf::SIZE as u64,
            tsc_khz: 1_000_000,
            faults: 100,
            spans: 5,
            overhead_cycles: 21_000,
            rdtsc_cycles: 20,
            ..Header::default()
        };
        let k = &mut buf.kinds[FaultKind::LazyAnon as usize];
        for i in 0..100 {
            k.latency.add(10_000 + i * 100);
        }
        k.stage_cycles[Stage::Fill as usize] = 750;
        k.stage_cycles[Stage::Map as usize] = 250;
        for _ in 0..5 {
            buf.span_kinds[SpanKind::SwapWrite as usize].add(50_000);
        }
        buf.procs[0] = ProcStats {
            pid: 3,
            name: name_field(b"page-linear"),
            faults: [100, 0, 0, 0, 0, 0],
            fault_cycles: 1_500_000,
            ..Default::default()
        };
        let p = Profile::from_buf(buf).unwrap().unwrap();
        let mut stats = Stats::default();
        stats.count(ExitKind::ConsoleOut);
        stats.charge_exit(Duration::from_micros(40));
        stats.run_time = Duration::from_millis(10);
        let text = render(&p, &stats);
        let line = |start: &str| {
            text.lines()
                .find(|l| l.trim_start().starts_with(start))
                .unwrap_or_else(|| panic!("no `{start}` line in\n{text}"))
                .to_string()
        };
        let anon: Vec<String> = line("lazy-anon")
            .split_whitespace()
            .map(String::from)
            .collect();
        assert_eq!(anon[1], "100", "{text}");
        // p50 around 15000 cycles = 15 µs at 1 GHz; max 19900 cycles.
        let p50: u64 = anon[2].parse().unwrap();
        assert!((13_000..=17_000).contains(&p50), "{text}");
        assert_eq!(anon[8], "19900", "{text}");
        assert_eq!(anon[9], "19.90", "{text}");
        assert!(!text.contains("\n  swap-in "), "{text}");
        let share = text
            .lines()
            .find(|l| l.trim_start().starts_with("lazy-anon") && l.contains('%'))
            .unwrap_or_else(|| panic!("no stage-share row in\n{text}"));
        assert!(
            share.contains("75.0%") && share.contains("25.0%"),
            "{share}"
        );
        assert!(line("swap-write").contains("50.00"), "{text}");
        assert!(line("3 page-linear").contains("lazy-anon 100"), "{text}");
        assert!(line("io-out console").contains("0.040"), "{text}");
        assert!(line("recorder overhead").contains("200 cycles per recorded event"));
    }
}
