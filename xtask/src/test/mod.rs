//! `cargo xtask test [--cpu-mode MODE] [FILTER]`: build, then run the host
//! unit tests, the kernel's pure logic on the host, and the guest suite in each
//! requested CPU mode, and end with the line `xtask test: N passed, M failed`
//! that CI reads.
//!
//! N and M count tests, from libtest's `test result:` lines. A suite that fails
//! without reporting a failed test (it did not compile, or crashed) counts as
//! one failure, and so does a failed build.

use std::io::{self, BufRead, BufReader, Write};
use std::process::{Command, ExitCode, Stdio};

use anyhow::{Context, Result};

use crate::paths::Paths;
use crate::{build, cargo};

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
    /// Passed to the guest suite's libtest as a name filter.
    pub filter: Option<String>,
}

/// Test counts summed over suites.
#[derive(Default, Debug, PartialEq, Eq)]
struct Tally {
    passed: u64,
    failed: u64,
}

impl Tally {
    /// Adds the counts of one libtest `test result:` line, if `line` is one.
    fn add_result_line(&mut self, line: &str) -> bool {
        let Some(rest) = line.trim().strip_prefix("test result: ") else {
            return false;
        };
        let mut found = false;
        for part in rest.split(';') {
            let part = part
                .trim()
                .trim_start_matches("ok.")
                .trim_start_matches("FAILED.");
            let mut words = part.split_whitespace();
            let (Some(count), Some(kind)) = (words.next(), words.next()) else {
                continue;
            };
            let Ok(count) = count.parse::<u64>() else {
                continue;
            };
            match kind {
                "passed" => self.passed += count,
                "failed" => self.failed += count,
                _ => continue,
            }
            found = true;
        }
        found
    }
}

/// Builds, runs every suite, prints the summary; fails if anything failed.
pub fn run(paths: &Paths, options: &Options) -> Result<ExitCode> {
    let mut tally = Tally::default();
    let built = match build::all(paths) {
        Ok(()) => true,
        Err(err) => {
            eprintln!("xtask: error: {err:#}");
            tally.failed += 1;
            false
        }
    };

    let mut host = cargo::host(paths);
    host.args([
        "test",
        "--workspace",
        "--exclude",
        "faultline-user",
        "--exclude",
        "faultline-kernel",
        "--exclude",
        "faultline-tests",
    ]);
    suite(&mut host, "host unit tests", &mut tally)?;

    let mut kernel = cargo::host(paths);
    kernel.args(["test", "-p", "faultline-kernel", "--lib"]);
    suite(&mut kernel, "kernel unit tests (on the host)", &mut tally)?;

    if built {
        for mode in &options.modes {
            let mut guest = cargo::host(paths);
            guest
                .args(["test", "--no-fail-fast", "-p", "faultline-tests"])
                .env("FAULTLINE_BIN", paths.vmm_bin())
                .env("FAULTLINE_KERNEL", paths.kernel_elf())
                .env("FAULTLINE_USER_DIR", paths.guest_bin())
                .env("FAULTLINE_DATA_DIR", paths.data_dir())
                .env("FAULTLINE_CPU_MODE", mode);
            if let Some(filter) = &options.filter {
                guest.arg("--").arg(filter);
            }
            eprintln!("xtask: guest suite, --cpu-mode {mode}");
            suite(&mut guest, &format!("guest suite ({mode})"), &mut tally)?;
        }
    } else {
        eprintln!("xtask: the guest suite was not run because the build failed");
    }

    println!(
        "xtask test: {} passed, {} failed",
        tally.passed, tally.failed
    );
    Ok(if tally.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Runs one cargo test invocation, echoing its stdout while counting its
/// results into `tally`.
fn suite(cmd: &mut Command, name: &str, tally: &mut Tally) -> Result<()> {
    let mut child = cmd
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot start the {name}"))?;
    let stdout = child.stdout.take().context("no pipe from cargo")?;
    let mut mine = Tally::default();
    let mut out = io::stdout().lock();
    for line in BufReader::new(stdout).lines() {
        let line = line.with_context(|| format!("cannot read the output of the {name}"))?;
        mine.add_result_line(&line);
        // Losing our own stdout must not stop the count.
        let _ = writeln!(out, "{line}");
    }
    drop(out);
    let status = child
        .wait()
        .with_context(|| format!("cannot wait for the {name}"))?;
    if !status.success() && mine.failed == 0 {
        eprintln!("xtask: the {name} failed ({status}) without a failing test");
        mine.failed += 1;
    } else if !status.success() {
        eprintln!("xtask: the {name} failed");
    }
    tally.passed += mine.passed;
    tally.failed += mine.failed;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::Tally;

    #[test]
    fn counts_ok_and_failed_result_lines() {
        let mut tally = Tally::default();
        assert!(tally.add_result_line(
            "test result: ok. 12 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.01s"
        ));
        assert!(tally.add_result_line(
            "test result: FAILED. 3 passed; 2 failed; 0 ignored; 0 measured; 5 filtered out; finished in 1.20s"
        ));
        assert_eq!(
            tally,
            Tally {
                passed: 15,
                failed: 2
            }
        );
    }

    #[test]
    fn ignores_other_lines() {
        let mut tally = Tally::default();
        assert!(!tally.add_result_line("running 3 tests"));
        assert!(!tally.add_result_line("test elf::tests::parses ... ok"));
        assert!(!tally.add_result_line("test result passed"));
        assert_eq!(tally, Tally::default());
    }
}
