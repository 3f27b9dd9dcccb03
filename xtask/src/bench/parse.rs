//! Reading figures out of the guest benchmarks' output lines and out of the
//! `--profile` table `faultline` prints on stderr, and medians of samples.

/// The number right after the first `key` in `text`, e.g. `("at ", " ms")`.
pub fn number_after(text: &str, key: &str) -> Option<f64> {
    let rest = &text[text.find(key)? + key.len()..];
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

/// The number right before the first `suffix` in `text`, e.g. the 1592 of
/// `"1592 cycles/fault"` for `" cycles/fault"`.
pub fn number_before(text: &str, suffix: &str) -> Option<f64> {
    let head = &text[..text.find(suffix)?];
    let start = head
        .rfind(|c: char| !(c.is_ascii_digit() || c == '.'))
        .map_or(0, |i| i + 1);
    head[start..].parse().ok()
}

/// The first line of `text` that starts with `prefix`.
pub fn line_starting<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    text.lines().find(|l| l.starts_with(prefix))
}

/// One row of the fault table of a `--profile` report.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ProfileRow {
    /// Faults of the kind in the whole run.
    pub count: u64,
    /// Median latency (trap entry to trap return) in cycles.
    pub p50: u64,
    /// Mean latency in µs (the last column).
    pub mean_us: f64,
}

impl ProfileRow {
    /// The kernel's time in all faults of the kind, in cycles, at the
    /// report's TSC rate.
    pub fn total_cycles(&self, tsc_ghz: f64) -> f64 {
        self.count as f64 * self.mean_us * 1e3 * tsc_ghz
    }
}

/// The row of fault kind `kind` (e.g. `lazy-anon`) in the fault table of a
/// `--profile` report: the rows between the `fault kind` header and the
/// `stage share` header, `  KIND  COUNT  P50CYC  P50US ... MEANUS`.
pub fn profile_row(report: &str, kind: &str) -> Option<ProfileRow> {
    let mut in_table = false;
    for line in report.lines() {
        let mut words = line.split_whitespace();
        let first = words.next();
        match first {
            Some("fault") if line.trim_start().starts_with("fault kind") => in_table = true,
            Some("stage") if line.trim_start().starts_with("stage share") => in_table = false,
            Some(name) if in_table && name == kind => {
                let count = words.next()?.parse().ok()?;
                let p50 = words.next()?.parse().ok()?;
                let mean_us = words.last()?.parse().ok()?;
                return Some(ProfileRow {
                    count,
                    p50,
                    mean_us,
                });
            }
            _ => {}
        }
    }
    None
}

/// The TSC rate of a `--profile` report (`(TSC 2.300 GHz)`), in GHz.
pub fn profile_tsc_ghz(report: &str) -> Option<f64> {
    number_after(report, "(TSC ").filter(|g| *g > 0.0)
}

/// The median of `samples` (the upper one of an even count), or `None` if
/// there are none.
pub fn median(samples: &[f64]) -> Option<f64> {
    let mut v = samples.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    v.get(v.len() / 2).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_read_after_their_key() {
        let s = "bench-syscall: 200000 calls, round trip 1592 cycles (692 ns), kernel 61 cycles, trap 1531 cycles";
        assert_eq!(number_after(s, "round trip "), Some(1592.0));
        assert_eq!(number_after(s, "cycles ("), Some(692.0));
        assert_eq!(number_after(s, "kernel "), Some(61.0));
        assert_eq!(number_after(s, "trap "), Some(1531.0));
        assert_eq!(
            number_after("first user instruction at 4.35 ms", "at "),
            Some(4.35)
        );
        assert_eq!(number_after("nothing here", "at "), None);
    }

    #[test]
    fn numbers_are_read_before_their_suffix() {
        let s = "bench-fault: swap 8192 faults, 327584 cycles/fault (142427 ns), 7021 pages/s";
        assert_eq!(number_before(s, " cycles/fault"), Some(327584.0));
        assert_eq!(number_before(s, " ns)"), Some(142427.0));
        assert_eq!(number_before(s, " pages/s"), Some(7021.0));
        assert_eq!(number_before("12.5 ms", " ms"), Some(12.5));
        assert_eq!(number_before(s, " traps"), None);
        assert_eq!(number_before("no number here", " here"), None);
        let out = "bench-fault: zero 64 faults, 1 cycles/fault\nbench-fault: file 64 faults, 2 cycles/fault\n";
        let file = line_starting(out, "bench-fault: file ").unwrap();
        assert_eq!(number_before(file, " cycles/fault"), Some(2.0));
        assert_eq!(line_starting(out, "bench-fault: stack "), None);
    }

    const PROFILE: &str = "\
bench-fault: zero 4096 faults, 86458 cycles/fault (37590 ns)
faultline: fault profile: 4745 faults, 5 spans (TSC 2.300 GHz)
  fault kind        count    p50 cyc        µs    p90 cyc        µs    p99 cyc        µs    max cyc        µs   mean µs
  lazy-anon          4097       1987      0.86       2545      1.11       9216      4.01     176978     76.95      1.09
  lazy-file           517     143542     62.41     162383     70.60     283989    123.47   18934926   8232.58     83.58
  stack-growth        131       2781      1.21       3200      1.39     103852     45.15     103852     45.15      2.20
  percentiles at histogram resolution (4 buckets per power of two: within 25%); latency = trap entry to trap return
  stage share          entry   lock-wait      lookup frame-alloc    eviction        fill         map      return
  lazy-anon            20.9%        0.1%        6.3%       26.7%        0.0%       12.0%       17.1%       16.8%
  swap-in               0.2%        0.0%        0.1%       16.0%       54.1%       29.3%        0.2%        0.1%
     pid process            faults   fault ms  faults by kind
       1 bench-fault          4745     47.972  lazy-anon 4097, lazy-file 517, stack-growth 131
";

    #[test]
    fn the_profile_table_gives_each_kinds_row() {
        let p50 = |kind| profile_row(PROFILE, kind).map(|r| r.p50);
        assert_eq!(p50("lazy-anon"), Some(1987));
        assert_eq!(p50("lazy-file"), Some(143542));
        assert_eq!(p50("stack-growth"), Some(2781));
        // Only in the stage-share table: not a latency row.
        assert_eq!(p50("swap-in"), None);
        assert_eq!(p50("copy-on-write"), None);
        assert_eq!(profile_row("no profile at all", "lazy-anon"), None);
        let file = profile_row(PROFILE, "lazy-file").unwrap();
        assert_eq!((file.count, file.mean_us), (517, 83.58));
        assert_eq!(profile_tsc_ghz(PROFILE), Some(2.3));
        // 517 faults of 83.58 µs at 2.3 GHz.
        assert!((file.total_cycles(2.3) - 517.0 * 83_580.0 * 2.3).abs() < 1.0);
    }

    #[test]
    fn medians() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[5.0, 1.0, 9.0, 7.0]), Some(7.0));
        assert_eq!(median(&[]), None);
    }
}
