//! `cargo xtask lint`: the format and lint checks over the host workspace and
//! the guest packages outside it (which a plain `cargo fmt` or `cargo clippy`
//! at the root does not reach):
//!
//! - `cargo fmt --check` for the workspace, `kernel/`, `user/` and
//!   `vmm/floor-guest/`;
//! - `cargo clippy --workspace --all-targets -- -D warnings` (host);
//! - `cargo clippy --lib --tests -- -D warnings` for `kernel/` on the host
//!   (the kernel's unit tests, which `cargo xtask test` runs there);
//! - `cargo clippy --target x86_64-unknown-none -- -D warnings` for `kernel/`,
//!   `user/` and `vmm/floor-guest/`, with the flags of their builds.
//!
//! The lints themselves are the `[workspace.lints]` of the root Cargo.toml
//! and the `[lints]` tables of the guest packages. Every check runs; the
//! status is 1 if any failed. `cargo xtask test` runs the same checks with
//! their output captured ([`run_captured`]) and counts them as one test,
//! `lint`.

use std::io::Read;
use std::process::{Command, ExitCode, Stdio};

use anyhow::{Context, Result};

use crate::cargo::{self, KERNEL_RUSTFLAGS, USER_RUSTFLAGS, run_checked};
use crate::paths::{GUEST_TARGET, Paths};

/// One check: what it is called and the command that runs it.
struct Check {
    name: String,
    command: Command,
}

/// A check that failed, with its output (stdout and stderr, interleaved).
pub struct Failed {
    /// The check's name, such as `cargo clippy (kernel/, x86_64-unknown-none)`.
    pub name: String,
    /// What the check printed, or why it could not run.
    pub output: String,
}

/// Every check, in the order they run.
fn checks(paths: &Paths) -> Vec<Check> {
    let mut checks = Vec::new();
    let mut fmt = cargo::host(paths);
    fmt.args(["fmt", "--check"]);
    checks.push(Check {
        name: "cargo fmt --check".into(),
        command: fmt,
    });
    for (package, manifest) in [
        ("kernel", paths.kernel_manifest()),
        ("user", paths.user_manifest()),
        ("vmm/floor-guest", paths.floor_guest_manifest()),
    ] {
        let mut fmt = cargo::host(paths);
        fmt.args(["fmt", "--check", "--manifest-path"])
            .arg(manifest);
        checks.push(Check {
            name: format!("cargo fmt --check ({package}/)"),
            command: fmt,
        });
    }
    let mut host = cargo::host(paths);
    host.args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]);
    checks.push(Check {
        name: "cargo clippy --workspace --all-targets".into(),
        command: host,
    });
    let mut kernel_tests = cargo::host(paths);
    kernel_tests
        .args(["clippy", "--manifest-path"])
        .arg(paths.kernel_manifest())
        .args(["--lib", "--tests", "--", "-D", "warnings"]);
    checks.push(Check {
        name: "cargo clippy (kernel/ unit tests, host)".into(),
        command: kernel_tests,
    });
    for (package, manifest, target, flags) in [
        (
            "kernel",
            paths.kernel_manifest(),
            paths.kernel_target(),
            KERNEL_RUSTFLAGS,
        ),
        (
            "user",
            paths.user_manifest(),
            paths.user_target(),
            USER_RUSTFLAGS,
        ),
        (
            "vmm/floor-guest",
            paths.floor_guest_manifest(),
            paths.kernel_target(),
            KERNEL_RUSTFLAGS,
        ),
    ] {
        let mut clippy = cargo::guest(paths, &target, flags, package);
        clippy
            .args(["clippy", "--manifest-path"])
            .arg(manifest)
            .args(["--target", GUEST_TARGET, "--", "-D", "warnings"]);
        checks.push(Check {
            name: format!("cargo clippy ({package}/, {GUEST_TARGET})"),
            command: clippy,
        });
    }
    checks
}

/// `cargo xtask lint`: runs every check with its output on the terminal and
/// says which failed; the status is 1 if any did. Fails (an error) only
/// when the paths cannot be used at all, never because a check failed.
pub fn run(paths: &Paths) -> Result<ExitCode> {
    let mut failed = Vec::new();
    for Check { name, mut command } in checks(paths) {
        eprintln!("xtask lint: {name}");
        if let Err(err) = run_checked(&mut command, &name) {
            eprintln!("xtask lint: {err:#}");
            failed.push(name);
        }
    }
    if failed.is_empty() {
        println!("xtask lint: all checks passed");
        Ok(ExitCode::SUCCESS)
    } else {
        println!("xtask lint: failed: {}", failed.join("; "));
        Ok(ExitCode::FAILURE)
    }
}

/// The number of checks [`run_captured`] runs.
pub fn count(paths: &Paths) -> usize {
    checks(paths).len()
}

/// Runs every check with its output captured; returns the ones that failed
/// (none when all passed). A check that cannot be started counts as failed,
/// with the reason as its output.
pub fn run_captured(paths: &Paths) -> Vec<Failed> {
    let mut failed = Vec::new();
    for Check { name, command } in checks(paths) {
        match captured(command) {
            Ok((true, _)) => {}
            Ok((false, output)) => failed.push(Failed { name, output }),
            Err(err) => failed.push(Failed {
                output: format!("xtask: {err:#}\n"),
                name,
            }),
        }
    }
    failed
}

/// Runs `command` with its stdout and stderr into one pipe; returns whether
/// it succeeded and what it printed. Fails if it cannot be started or read.
fn captured(mut command: Command) -> Result<(bool, String)> {
    let (mut reader, writer) = std::io::pipe().context("cannot create a pipe")?;
    command
        .stdin(Stdio::null())
        .stdout(writer.try_clone().context("cannot duplicate a pipe")?)
        .stderr(writer);
    let mut child = command
        .spawn()
        .with_context(|| format!("cannot start {:?}", command.get_program()))?;
    // The command holds the pipe's write ends: without dropping it the read
    // below would never see the end of the output.
    drop(command);
    let mut output = Vec::new();
    let read = reader.read_to_end(&mut output);
    let status = child.wait().context("cannot wait for a lint check")?;
    read.context("cannot read a lint check's output")?;
    Ok((
        status.success(),
        String::from_utf8_lossy(&output).into_owned(),
    ))
}
