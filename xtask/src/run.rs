//! `cargo xtask run [OPTIONS] -- PROGRAM [ARGS...]`: build, then replace this
//! process with `faultline`, so that its stdio and exit status are the run's.

use std::env;
use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitCode};

use anyhow::{Context, Result};

use crate::build;
use crate::paths::Paths;

/// The arguments after `run` exactly as given (clap would drop the `--` that
/// `faultline` needs to tell its options from the program's arguments).
pub fn raw_run_args() -> Vec<OsString> {
    let mut args = env::args_os().skip(1);
    match args.next() {
        Some(first) if first == "run" => args.collect(),
        _ => Vec::new(),
    }
}

/// Builds everything, then execs `faultline --kernel .. --user-dir .. ARGS`.
/// Returns only if something failed.
pub fn run(paths: &Paths, args: &[OsString]) -> Result<ExitCode> {
    build::all(paths)?;
    let vmm = paths.vmm_bin();
    let err = Command::new(&vmm)
        .arg("--kernel")
        .arg(paths.kernel_elf())
        .arg("--user-dir")
        .arg(paths.guest_bin())
        .args(args)
        .exec();
    Err(err).with_context(|| format!("cannot run {}", vmm.display()))
}
