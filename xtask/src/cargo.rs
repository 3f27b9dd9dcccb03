//! Starting child processes: cargo with a controlled environment, and
//! checked execution of any command.

use std::env;
use std::ffi::OsString;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};
use cargo_metadata::{Message, TargetKind};

use crate::paths::Paths;

/// Rust flags of the kernel build (its build script adds the linker script).
pub const KERNEL_RUSTFLAGS: &str =
    "-C code-model=kernel -C relocation-model=static -C force-frame-pointers=yes";

/// Rust flags of the user-program build.
pub const USER_RUSTFLAGS: &str = "-C relocation-model=static -C force-frame-pointers=yes";

/// The cargo that runs xtask (`$CARGO`), or `cargo` from `PATH`.
fn cargo_program() -> OsString {
    env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"))
}

/// The environment variable that places the VMM's image cache.
pub const CACHE_DIR_ENV: &str = "FAULTLINE_CACHE_DIR";

/// A cargo command for a host build: run in the workspace root, in the host
/// target directory, with the Rust flags inherited from the environment
/// removed; the tests it runs keep the VMM's image cache in the target directory.
pub fn host(paths: &Paths) -> Command {
    let mut cmd = Command::new(cargo_program());
    cmd.current_dir(&paths.root)
        .env("CARGO_TARGET_DIR", &paths.target)
        .env(CACHE_DIR_ENV, paths.image_cache())
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_RUSTFLAGS");
    cmd
}

/// A cargo command for a guest build of the package in `<root>/<package>`
/// (outside the host workspace) with its own target directory and flags.
///
/// Cargo names a package's sources relative to its workspace root, which for
/// a package of its own is its directory (`src/vm/api.rs`). The flags map
/// them back to the repository's names (`kernel/src/vm/api.rs`, with the
/// repository as the compilation directory), as in panic messages and the
/// debug information gdb and the flamegraphs read.
pub fn guest(paths: &Paths, target_dir: &Path, rustflags: &str, package: &str) -> Command {
    let pkg_dir = paths.root.join(package);
    let mut flags: Vec<String> = rustflags.split_whitespace().map(str::to_owned).collect();
    for (from, to) in [
        (
            pkg_dir.display().to_string(),
            paths.root.display().to_string(),
        ),
        ("src".to_owned(), format!("{package}/src")),
        ("abi".to_owned(), format!("{package}/abi")),
    ] {
        flags.push(format!("--remap-path-prefix={from}={to}"));
    }
    let mut cmd = host(paths);
    cmd.env("CARGO_TARGET_DIR", target_dir)
        .env("CARGO_ENCODED_RUSTFLAGS", flags.join("\x1f"));
    cmd
}

/// Runs `cmd` with inherited stdio and fails unless it exits successfully.
pub fn run_checked(cmd: &mut Command, what: &str) -> Result<()> {
    let status = cmd
        .status()
        .with_context(|| format!("cannot start {what} ({:?})", cmd.get_program()))?;
    if !status.success() {
        bail!("{what} failed ({status})");
    }
    Ok(())
}

/// Runs the cargo build `cmd` (which must ask for
/// `--message-format=json-render-diagnostics`) and returns the executables it
/// built for targets of `kind`; cargo's diagnostics still reach the terminal.
/// Fails, naming `what`, if cargo cannot be started or read, or the build fails.
pub fn artifacts(mut cmd: Command, kind: TargetKind, what: &str) -> Result<Vec<PathBuf>> {
    let mut child = cmd
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot start {what}"))?;
    let stdout = child.stdout.take().context("no pipe from cargo")?;
    let mut exes = Vec::new();
    for message in Message::parse_stream(BufReader::new(stdout)) {
        let message = message.context("cannot read cargo's build messages")?;
        if let Message::CompilerArtifact(artifact) = message
            && artifact.target.kind.contains(&kind)
            && let Some(exe) = artifact.executable
        {
            exes.push(PathBuf::from(exe));
        }
    }
    let status = child
        .wait()
        .with_context(|| format!("cannot wait for {what}"))?;
    if !status.success() {
        bail!("{what} failed ({status})");
    }
    Ok(exes)
}
