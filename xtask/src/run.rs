//! `cargo xtask run [OPTIONS] -- PROGRAM [ARGS...]`: build, then replace this
//! process with `faultline`, so that its stdio and exit status are the run's.
//! Also `cargo xtask run --test NAME` (one guest test, [`crate::run_test`])
//! and `cargo xtask run --help` (xtask's usage and faultline's options).
//!
//! When the build (or anything before `faultline` starts) fails, the status
//! is 252, the status of the VMM's own failures, so that it cannot be taken
//! for a program's `exit(1)`.

use std::env;
use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitCode};

use abi::exit::STATUS_VMM_ERROR;
use anyhow::{Context, Result};

use crate::paths::Paths;
use crate::{build, cargo, run_test};

/// The status of `cargo xtask run` when the program could not be run.
pub const STATUS_NOT_RUN: u8 = STATUS_VMM_ERROR;

/// xtask's part of `cargo xtask run --help`.
const USAGE: &str = "\
Build, then run a program in a VM, or one guest test.

Usage: cargo xtask run [FAULTLINE OPTIONS] -- PROGRAM [ARGS...]
       cargo xtask run --test NAME [--cpu-mode auto|native|pvm]

The first form builds the kernel, the user programs and the VMM, then runs
  faultline --kernel <kernel> --user-dir target/guest/bin [FAULTLINE OPTIONS] -- PROGRAM [ARGS...]
and exits with its status (the program's; 250 kernel panic, 251 timeout,
252 VMM error). A failed build also exits with 252.

--test NAME builds, then runs one guest test (NAME as `cargo xtask test`
prints it, e.g. vm::page_linear, or a program name such as page-linear) with
its files and options, printing each VM's faultline command, its console,
stderr and exit status, and the verdict; it exits 0 when the test passes or
skips, 1 when it fails, 252 when it cannot run.
";

/// The arguments after `run` exactly as given (clap would drop the `--` that
/// `faultline` needs to tell its options from the program's arguments).
pub fn raw_run_args() -> Vec<OsString> {
    let mut args = env::args_os().skip(1);
    match args.next() {
        Some(first) if first == "run" => args.collect(),
        _ => Vec::new(),
    }
}

/// The options before `--` (or all of them when there is none).
fn options(args: &[OsString]) -> &[OsString] {
    let end = args.iter().position(|a| a == "--").unwrap_or(args.len());
    &args[..end]
}

/// Runs `cargo xtask run ARGS`; any failure before `faultline` starts is
/// reported and gives [`STATUS_NOT_RUN`].
pub fn main(paths: &Paths, args: &[OsString]) -> ExitCode {
    let opts = options(args);
    let result = if opts.iter().any(|a| a == "--help" || a == "-h") {
        help(paths)
    } else if opts.iter().any(|a| a == "--test") {
        run_test::main(paths, args)
    } else {
        run(paths, args)
    };
    result.unwrap_or_else(|err| {
        eprintln!("xtask: error: {err:#}");
        ExitCode::from(STATUS_NOT_RUN)
    })
}

/// Builds everything, then execs `faultline --kernel .. --user-dir .. ARGS`.
/// Returns only if something failed.
fn run(paths: &Paths, args: &[OsString]) -> Result<ExitCode> {
    build::all(paths)?;
    let vmm = paths.vmm_bin();
    let err = Command::new(&vmm)
        .env(crate::cargo::CACHE_DIR_ENV, paths.image_cache())
        .arg("--kernel")
        .arg(paths.kernel_elf())
        .arg("--user-dir")
        .arg(paths.guest_bin())
        .args(args)
        .exec();
    Err(err).with_context(|| format!("cannot run {}", vmm.display()))
}

/// Prints xtask's usage, then builds the VMM and prints `faultline --help`.
fn help(paths: &Paths) -> Result<ExitCode> {
    println!("{USAGE}");
    let built = cargo::run_checked(
        cargo::host(paths).args(["build", "--quiet", "-p", "faultline-vmm", "--release"]),
        "the VMM build",
    );
    let faultline = built.and_then(|()| {
        Command::new(paths.vmm_bin())
            .arg("--help")
            .output()
            .context("cannot run faultline --help")
    });
    match faultline {
        Ok(out) => {
            println!("faultline's options (FAULTLINE OPTIONS above), from `faultline --help`:\n");
            print!("{}", String::from_utf8_lossy(&out.stdout));
        }
        Err(err) => println!(
            "(faultline's options: README.md, \"`faultline` options\"; \
             `faultline --help` is not available: {err:#})"
        ),
    }
    Ok(ExitCode::SUCCESS)
}
