//! The host-side suites: the unit tests of the host crates (VMM, ABI, xtask,
//! the guest suite's helpers) and the kernel's pure logic compiled for the
//! host. They run under plain libtest; each prints one summary line, and its
//! whole output only when something failed.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use anyhow::{Context, Result};

use super::filter::NameFilter;
use super::tally::Tally;
use crate::cargo;
use crate::paths::Paths;

/// The signpost test that tells a plain `cargo test` where the guest suite
/// is (`xtask/src/test/mod.rs`); `cargo xtask test` leaves it out.
pub const SIGNPOST: &str = "the_guest_suite_runs_with_cargo_xtask_test";

/// Runs the host suites (only their tests that `filter` selects, if given),
/// prints a line for each and returns their counts.
pub fn run(paths: &Paths, filter: Option<&NameFilter>) -> Result<Tally> {
    let mut host = cargo::host(paths);
    host.args(["test", "--workspace", "--exclude", "faultline-tests"]);
    let mut helpers = cargo::host(paths);
    helpers.args(["test", "-p", "faultline-tests", "--lib"]);
    let mut kernel = cargo::host(paths);
    kernel
        .args(["test", "--manifest-path"])
        .arg(paths.kernel_manifest())
        .arg("--lib");
    let mut tally = Tally::default();
    for (name, cmd) in [
        ("host unit tests", &mut host),
        ("guest suite helpers' unit tests", &mut helpers),
        ("kernel unit tests (on the host)", &mut kernel),
    ] {
        cmd.arg("--").args(["--skip", SIGNPOST]);
        if let Some(filter) = filter {
            cmd.args(filter.libtest_args());
        }
        tally.add(suite(cmd, name, filter.is_some())?);
    }
    Ok(tally)
}

/// Runs one libtest suite through cargo, capturing its stdout (cargo's own
/// progress goes to stderr as usual); prints its summary line, and its
/// output if it failed; with a filter, nothing when no test of it matched.
/// A suite that fails without a failing test (it did not compile, or
/// crashed) counts as one failure.
fn suite(cmd: &mut Command, name: &str, filtered: bool) -> Result<Tally> {
    let mut child = cmd
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot start the {name}"))?;
    let stdout = child.stdout.take().context("no pipe from cargo")?;
    let mut tally = Tally::default();
    let mut output = String::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.with_context(|| format!("cannot read the output of the {name}"))?;
        if let Some(counts) = Tally::from_result_line(&line) {
            tally.add(counts);
        }
        output += &line;
        output.push('\n');
    }
    let status = child
        .wait()
        .with_context(|| format!("cannot wait for the {name}"))?;
    if !status.success() {
        print!("{output}");
        if tally.failed == 0 {
            eprintln!("xtask: the {name} failed ({status}) without a failing test");
            tally.failed += 1;
        }
    }
    if !(filtered && tally.total() == 0) {
        println!(
            "{name}: {} passed, {} failed, {} skipped",
            tally.passed, tally.failed, tally.skipped
        );
    }
    Ok(tally)
}
