//! `cargo xtask test [--cpu-mode MODE] [-j N] [--no-lint] [FILTER...]`: run the
//! lint ([`lint_suite`], one test), build, then run the host unit tests, the kernel's pure logic on the host, the guest suite in
//! each requested CPU mode and the documentation's commands, and end with the
//! line CI reads: `xtask test: N passed, M failed, K skipped`.
//!
//! Every guest test runs in its own process ([`pool`]), `-j` at a time (by
//! default one per CPU), slowest first ([`times`]), and gets one line as it
//! ends: `pass NAME`, `FAIL NAME` or `skip NAME (REASON)` ([`outcome`]). The
//! failures' output and the command that reproduces each follow the last
//! test. With FILTERs ([`filter`]) only the tests one of them selects run and
//! count, in every suite; FILTERs that select nothing are an error. A suite that
//! fails without reporting a failed test (it did not compile, or crashed)
//! counts as one failure, and so does a failed build.

mod doc_commands;
#[cfg(test)]
mod doc_links;
mod filter;
mod guest;
mod host_suites;
mod lint_suite;
mod outcome;
mod pool;
mod suite;
mod tally;
mod times;

use std::process::ExitCode;

use anyhow::{Result, bail};

use crate::build;
use crate::paths::Paths;
use filter::NameFilter;
pub use filter::resolve_one;
pub use guest::{GuestTest, build_and_list, command as guest_command};
pub use outcome::{Verdict, verdict};
pub use pool::Finished;
pub use suite::time as time_guest_suite;
use tally::Tally;
use times::Times;

/// Which CPU modes the guest suite runs in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ModeChoice {
    Auto,
    Native,
    Pvm,
    /// `auto`, then `native` (on PVM hosts: both CPU modes).
    Both,
}

impl ModeChoice {
    /// The `--cpu-mode` values to run the suite with, in order.
    pub fn modes(self) -> Vec<&'static str> {
        match self {
            ModeChoice::Auto => vec!["auto"],
            ModeChoice::Native => vec!["native"],
            ModeChoice::Pvm => vec!["pvm"],
            ModeChoice::Both => vec!["auto", "native"],
        }
    }
}

/// What `cargo xtask test` was asked for.
pub struct Options {
    /// `--cpu-mode` values to run the guest suite with.
    pub modes: Vec<&'static str>,
    /// The FILTERs: only the tests one of them selects run (all when empty).
    pub filter: Vec<String>,
    /// Tests run at once (default: one per CPU).
    pub jobs: Option<usize>,
    /// Whether the lint runs (`--no-lint` turns it off).
    pub lint: bool,
}

/// One failure, reported after the last test.
struct Failure {
    title: String,
    output: String,
    reproduce: Option<String>,
}

/// Counts and failures so far.
#[derive(Default)]
struct Report {
    tally: Tally,
    failures: Vec<Failure>,
}

/// Builds, runs every suite, prints the summary; fails if anything failed.
pub fn run(paths: &Paths, options: &Options) -> Result<ExitCode> {
    let filter = NameFilter::new(&options.filter);
    let workers = options.jobs.unwrap_or_else(default_jobs).max(1);
    let mut report = Report::default();
    if lint_suite::selected(options.lint, filter.as_ref()) {
        lint_suite::run(paths, &mut report);
    }
    let built = match build::all(paths) {
        Ok(()) => true,
        Err(err) => {
            eprintln!("xtask: error: {err:#}");
            report.tally.failed += 1;
            false
        }
    };
    report.tally.add(host_suites::run(paths, filter.as_ref())?);
    if built {
        match guest::build_and_list(paths) {
            Ok(tests) => {
                let selected: Vec<GuestTest> = tests
                    .into_iter()
                    .filter(|t| filter.as_ref().is_none_or(|f| f.matches(&t.name)))
                    .collect();
                if selected.is_empty() {
                    println!("guest suite: no test selected");
                } else {
                    let mut times = Times::load(&times_path(paths));
                    for mode in &options.modes {
                        guest_suite(paths, &selected, mode, workers, &mut times, &mut report);
                    }
                    times.save();
                }
            }
            Err(err) => {
                eprintln!("xtask: error: {err:#}");
                report.tally.failed += 1;
            }
        }
        doc_commands::run(paths, filter.as_ref(), workers, &mut report)?;
    } else {
        eprintln!(
            "xtask: the guest suite and the doc commands were not run because the build failed"
        );
    }
    if let Some(filter) = &filter
        && report.tally.total() == 0
    {
        bail!(
            "no test matches {} (a test name such as `args_single` or `vm::page_linear`, \
             a program name such as `args-single`, or part of one)",
            filter.describe()
        );
    }
    print_failures(&report.failures);
    println!("{}", report.tally.closing_line());
    Ok(if report.tally.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Where the guest tests' last times are kept (for slowest-first order).
fn times_path(paths: &Paths) -> std::path::PathBuf {
    paths.target.join("xtask").join("test-times.tsv")
}

/// One worker per CPU.
fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(2, usize::from)
}

/// Runs `tests` in `mode`, a line per test.
fn guest_suite(
    paths: &Paths,
    tests: &[GuestTest],
    mode: &str,
    workers: usize,
    times: &mut Times,
    report: &mut Report,
) {
    let on_host = guest::mode_on_host(paths, mode).map_or_else(String::new, |m| format!(" ({m})"));
    let plural = if tests.len() == 1 { "" } else { "s" };
    println!(
        "guest suite, --cpu-mode {mode}{on_host}: {} test{plural}, {workers} at a time",
        tests.len()
    );
    let before = report.tally;
    let elapsed = suite::run(paths, tests, mode, workers, times, |finished, verdict| {
        let reproduce = format!("cargo xtask run --test {} --cpu-mode {mode}", finished.name);
        let title = format!("{} (--cpu-mode {mode})", finished.name);
        record(report, finished, verdict, title, Some(reproduce));
    });
    let mine = report.tally.since(before);
    println!(
        "guest suite, --cpu-mode {mode}: {} passed, {} failed, {} skipped in {:.1} s",
        mine.passed,
        mine.failed,
        mine.skipped,
        elapsed.as_secs_f64()
    );
}

/// Prints the line of one finished test and counts it.
fn record(
    report: &mut Report,
    finished: &Finished,
    verdict: Verdict,
    title: String,
    reproduce: Option<String>,
) {
    let name = &finished.name;
    match verdict {
        Verdict::Pass => {
            println!("pass {name}");
            report.tally.passed += 1;
        }
        Verdict::Skip(reason) => {
            println!("skip {name} ({reason})");
            report.tally.skipped += 1;
        }
        Verdict::Fail(why) => {
            println!("FAIL {name}");
            report.tally.failed += 1;
            let mut output = outcome::body(&finished.output, name);
            if let Some(why) = why {
                output = format!("{output}xtask: {why}\n");
            }
            report.failures.push(Failure {
                title,
                output,
                reproduce,
            });
        }
    }
}

/// Prints each failure's output and how to reproduce it.
fn print_failures(failures: &[Failure]) {
    if failures.is_empty() {
        return;
    }
    println!("\nfailures:");
    for failure in failures {
        println!("\n---- {}", failure.title);
        print!("{}", failure.output);
        // A judged guest test has printed it already.
        if let Some(reproduce) = &failure.reproduce
            && !failure.output.contains(&format!("reproduce: {reproduce}"))
        {
            println!("reproduce: {reproduce}");
        }
    }
    println!();
}

#[cfg(test)]
mod tests {
    /// A plain `cargo test` at the workspace root runs the host crates' unit
    /// tests; this test (left out by `cargo xtask test`) is the one line it
    /// prints about the rest.
    #[test]
    #[ignore = "the guest suite (tests/) and the kernel's unit tests run with `cargo xtask test`"]
    fn the_guest_suite_runs_with_cargo_xtask_test() {
        panic!(
            "run `cargo xtask test`: it builds the kernel and the user programs, \
             then runs every suite"
        );
    }

    #[test]
    fn the_signpost_is_the_test_the_runner_leaves_out() {
        assert!(
            super::host_suites::SIGNPOST.ends_with("the_guest_suite_runs_with_cargo_xtask_test")
        );
    }
}
