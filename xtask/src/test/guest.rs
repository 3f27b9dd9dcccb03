//! The guest suite's executables and tests: building them, listing every
//! test, and the command that runs one test in its own process.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};
use cargo_metadata::TargetKind;

use crate::cargo;
use crate::paths::Paths;

/// One guest test: the libtest executable holding it and its name there.
#[derive(Clone, Debug)]
pub struct GuestTest {
    pub exe: PathBuf,
    pub name: String,
}

/// Builds the guest suite's test executables (`tests/tests/*.rs`) and lists
/// their tests, in executable order then libtest's (alphabetical) order.
pub fn build_and_list(paths: &Paths) -> Result<Vec<GuestTest>> {
    let mut tests = Vec::new();
    for exe in executables(paths)? {
        for name in list(&exe)? {
            tests.push(GuestTest {
                exe: exe.clone(),
                name,
            });
        }
    }
    Ok(tests)
}

/// Builds the integration-test executables of `faultline-tests`.
fn executables(paths: &Paths) -> Result<Vec<PathBuf>> {
    let mut cmd = cargo::host(paths);
    cmd.args([
        "test",
        "-p",
        "faultline-tests",
        "--test",
        "*",
        "--no-run",
        "--message-format=json-render-diagnostics",
    ]);
    let mut exes = cargo::artifacts(cmd, TargetKind::Test, "the guest suite's build")?;
    exes.sort();
    Ok(exes)
}

/// The tests of one libtest executable (`EXE --list --format terse`).
fn list(exe: &PathBuf) -> Result<Vec<String>> {
    let out = Command::new(exe)
        .args(["--list", "--format", "terse"])
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("cannot list the tests of {}", exe.display()))?;
    if !out.status.success() {
        bail!("{} --list failed ({})", exe.display(), out.status);
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| line.strip_suffix(": test"))
        .map(str::to_owned)
        .collect())
}

/// The command that runs `test` alone in `mode`, with the built guest's
/// paths and the test's name in its environment. `show` makes every VM it
/// boots print its command, console and verdict (`cargo xtask run --test`).
pub fn command(paths: &Paths, test: &GuestTest, mode: &str, show: bool) -> Command {
    let mut cmd = Command::new(&test.exe);
    // `--color never`: the output goes to a pipe, never coloured, and a
    // test binary starts ~0.2 ms sooner with it (1.8 -> 1.5 ms for one that
    // runs no test, hyperfine means of 200).
    cmd.args([
        "--exact",
        &test.name,
        "--nocapture",
        "--test-threads",
        "1",
        "--color",
        "never",
    ])
    .current_dir(&paths.root)
    .env("FAULTLINE_BIN", paths.vmm_bin())
    .env("FAULTLINE_KERNEL", paths.kernel_elf())
    .env("FAULTLINE_FLOOR_GUEST", paths.floor_guest_elf())
    .env("FAULTLINE_USER_DIR", paths.guest_bin())
    .env("FAULTLINE_DATA_DIR", paths.data_dir())
    .env("FAULTLINE_CPU_MODE", mode)
    .env("FAULTLINE_TEST_NAME", &test.name)
    .env(crate::cargo::CACHE_DIR_ENV, paths.image_cache());
    if show {
        cmd.env("FAULTLINE_SHOW", "1");
    } else {
        cmd.env_remove("FAULTLINE_SHOW");
    }
    cmd
}

/// What `mode` means on this host, from `faultline --host-info`, for the
/// suite's headings: e.g. `pvm` for `auto` on a PVM host, `emulated` for
/// `native` there. `None` when faultline cannot tell.
pub fn mode_on_host(paths: &Paths, mode: &str) -> Option<String> {
    let out = Command::new(paths.vmm_bin())
        .arg("--host-info")
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let fact = |key: &str| {
        text.lines()
            .find_map(|line| line.strip_prefix(key)?.strip_prefix('='))
            .map(str::to_owned)
    };
    match mode {
        "auto" => fact("auto_cpu_mode").map(|m| format!("{m} on this host")),
        "native" => fact("native_cpu_mode").map(|m| format!("{m} on this host")),
        _ => None,
    }
}
