//! `cargo xtask lint`: the format and lint checks over the host workspace and
//! the two guest packages outside it (which a plain `cargo fmt` or `cargo
//! clippy` at the root does not reach):
//!
//! - `cargo fmt --check` for the workspace, `kernel/` and `user/`;
//! - `cargo clippy --workspace --all-targets -- -D warnings` (host);
//! - `cargo clippy --target x86_64-unknown-none -- -D warnings` for `kernel/`
//!   and `user/`, with the flags of their builds.
//!
//! Every check runs; the status is 1 if any failed.

use std::process::{Command, ExitCode};

use anyhow::Result;

use crate::cargo::{self, KERNEL_RUSTFLAGS, USER_RUSTFLAGS, run_checked};
use crate::paths::{GUEST_TARGET, Paths};

/// Runs every check and says which failed.
pub fn run(paths: &Paths) -> Result<ExitCode> {
    let mut checks: Vec<(String, Command)> = Vec::new();
    let mut fmt = cargo::host(paths);
    fmt.args(["fmt", "--check"]);
    checks.push(("cargo fmt --check".into(), fmt));
    for (package, manifest) in [
        ("kernel", paths.kernel_manifest()),
        ("user", paths.user_manifest()),
        ("vmm/floor-guest", paths.floor_guest_manifest()),
    ] {
        let mut fmt = cargo::host(paths);
        fmt.args(["fmt", "--check", "--manifest-path"])
            .arg(manifest);
        checks.push((format!("cargo fmt --check ({package}/)"), fmt));
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
    checks.push(("cargo clippy --workspace --all-targets".into(), host));
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
        checks.push((format!("cargo clippy ({package}/, {GUEST_TARGET})"), clippy));
    }
    let mut failed = Vec::new();
    for (name, mut cmd) in checks {
        eprintln!("xtask lint: {name}");
        if let Err(err) = run_checked(&mut cmd, &name) {
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
