//! The lint as one test of `cargo xtask test`: the checks of `cargo xtask
//! lint` (`cargo fmt --check` and clippy with warnings denied, over the host
//! workspace and the guest packages) run first, their output captured, and
//! count as one line, `pass lint` or `FAIL lint`. A failure's output is the
//! output of each check that failed, reproduced by `cargo xtask lint`.
//!
//! `cargo xtask test --no-lint` leaves it out; with a FILTER it runs only
//! when the filter selects the name `lint`.

use std::time::Instant;

use super::filter::NameFilter;
use super::{Failure, Report};
use crate::lint;
use crate::paths::Paths;

/// The test's name, as the runner prints it and a FILTER selects it.
pub const NAME: &str = "lint";

/// Whether the lint runs: not with `--no-lint`, and with a FILTER only if
/// it selects [`NAME`].
pub fn selected(enabled: bool, filter: Option<&NameFilter>) -> bool {
    enabled && filter.is_none_or(|f| f.matches(NAME))
}

/// Runs every check of `cargo xtask lint`, prints its heading and its line,
/// and counts it into `report` as one test.
pub fn run(paths: &Paths, report: &mut Report) {
    println!(
        "lint (cargo xtask lint): {} checks, cargo fmt --check and cargo clippy -D warnings",
        lint::count(paths)
    );
    let started = Instant::now();
    let failed = lint::run_captured(paths);
    let seconds = started.elapsed().as_secs_f64();
    if failed.is_empty() {
        println!("pass {NAME} ({seconds:.1} s)");
        report.tally.passed += 1;
        return;
    }
    println!("FAIL {NAME} ({seconds:.1} s)");
    report.tally.failed += 1;
    let mut output = String::new();
    for check in &failed {
        output += &format!("xtask lint: {} failed:\n{}", check.name, check.output);
        if !check.output.ends_with('\n') {
            output.push('\n');
        }
    }
    report.failures.push(Failure {
        title: NAME.into(),
        output,
        reproduce: Some("cargo xtask lint".into()),
    });
}

#[cfg(test)]
mod tests {
    use super::{NAME, selected};
    use crate::test::filter::NameFilter;

    #[test]
    fn the_lint_runs_unless_left_out_or_filtered_away() {
        assert!(selected(true, None));
        assert!(!selected(false, None));
        let only = |f: &str| NameFilter::new(&[f.to_owned()]);
        assert!(selected(true, only(NAME).as_ref()));
        assert!(!selected(false, only(NAME).as_ref()));
        assert!(!selected(true, only("args-single").as_ref()));
    }
}
