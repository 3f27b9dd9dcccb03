//! `cargo xtask build`: the guest target, the kernel (and the floor guest),
//! the user programs (Rust and C) and the VMM, in that order.

use std::ffi::OsStr;
use std::fs;
use std::io::{self, ErrorKind};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::SystemTime;

use anyhow::{Context, Result, bail};
use cargo_metadata::TargetKind;

use crate::cargo::{self, KERNEL_RUSTFLAGS, USER_RUSTFLAGS, run_checked};
use crate::paths::{GUEST_TARGET, HOST_TARGET, Paths};

/// Builds everything `run` and `test` need.
pub fn all(paths: &Paths) -> Result<()> {
    ensure_guest_target(paths)?;
    kernel(paths)?;
    fs::create_dir_all(paths.guest_bin())
        .with_context(|| format!("cannot create {}", paths.guest_bin().display()))?;
    user_programs(paths)?;
    c_programs(paths)?;
    vmm(paths)
}

/// Installs the guest target with rustup when the toolchain lacks it (rustup
/// does not add a missing target on `cargo build` by itself).
fn ensure_guest_target(paths: &Paths) -> Result<()> {
    let output = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .current_dir(&paths.root)
        .stderr(Stdio::inherit())
        .output();
    let output = match output {
        Ok(output) => output,
        Err(err) if err.kind() == ErrorKind::NotFound => {
            eprintln!(
                "xtask: warning: rustup not found; assuming the toolchain has {GUEST_TARGET}"
            );
            return Ok(());
        }
        Err(err) => return Err(err).context("cannot run `rustup target list --installed`"),
    };
    if !output.status.success() {
        bail!(
            "`rustup target list --installed` failed ({})",
            output.status
        );
    }
    let installed = String::from_utf8_lossy(&output.stdout);
    if installed.lines().any(|line| line.trim() == GUEST_TARGET) {
        return Ok(());
    }
    run_checked(
        Command::new("rustup")
            .args(["target", "add", GUEST_TARGET])
            .current_dir(&paths.root),
        "`rustup target add x86_64-unknown-none`",
    )
}

/// Builds the kernel ELF, with debug information for gdb (`cargo xtask gdb`),
/// and the floor guest (the minimal kernel the benchmark measures the host's
/// floors with), which boots the same way.
fn kernel(paths: &Paths) -> Result<()> {
    run_checked(
        cargo::guest(paths, &paths.kernel_target(), KERNEL_RUSTFLAGS, "kernel")
            .env("CARGO_PROFILE_RELEASE_DEBUG", KERNEL_DEBUG_INFO)
            .arg("build")
            .arg("--manifest-path")
            .arg(paths.kernel_manifest())
            .args(["--bin", "kernel", "--release", "--target", GUEST_TARGET]),
        "the kernel build",
    )?;
    run_checked(
        cargo::guest(
            paths,
            &paths.kernel_target(),
            KERNEL_RUSTFLAGS,
            "vmm/floor-guest",
        )
        .arg("build")
        .arg("--manifest-path")
        .arg(paths.floor_guest_manifest())
        .args([
            "--bin",
            "floor-guest",
            "--release",
            "--target",
            GUEST_TARGET,
        ]),
        "the floor guest build",
    )
}

/// How much debug information the kernel carries (Cargo's `debug` setting):
/// function names, inlined frames and source lines for gdb's backtraces and
/// stepping; variables' types would triple the ELF and the build time.
const KERNEL_DEBUG_INFO: &str = "limited";

/// Builds the Rust user programs and copies each into the guest bin directory.
fn user_programs(paths: &Paths) -> Result<()> {
    let mut cmd = cargo::guest(paths, &paths.user_target(), USER_RUSTFLAGS, "user");
    cmd.arg("build")
        .arg("--manifest-path")
        .arg(paths.user_manifest())
        .args([
            "--release",
            "--target",
            GUEST_TARGET,
            "--bins",
            "--message-format=json-render-diagnostics",
        ]);
    let programs = cargo::artifacts(cmd, TargetKind::Bin, "the user-program build")?;
    for program in programs {
        let name = program
            .file_name()
            .with_context(|| format!("{} has no file name", program.display()))?;
        install(&program, &paths.guest_bin().join(name))?;
    }
    Ok(())
}

/// Copies `from` (with its permissions) to `to` unless `to` already has the
/// same bytes. The copy is written beside `to` and renamed over it, so a
/// concurrent reader never sees a half-written program.
fn install(from: &Path, to: &Path) -> Result<()> {
    let data = fs::read(from).with_context(|| format!("cannot read {}", from.display()))?;
    let same_mode = |to: &Path| -> bool {
        match (fs::metadata(from), fs::metadata(to)) {
            (Ok(a), Ok(b)) => a.permissions() == b.permissions(),
            _ => false,
        }
    };
    match fs::read(to) {
        Ok(old) if old == data && same_mode(to) => return Ok(()),
        Ok(_) => {}
        Err(err) if err.kind() == ErrorKind::NotFound => {}
        Err(err) => return Err(err).with_context(|| format!("cannot read {}", to.display())),
    }
    let tmp = temp_path(to);
    fs::copy(from, &tmp)
        .with_context(|| format!("cannot copy {} to {}", from.display(), tmp.display()))?;
    fs::rename(&tmp, to)
        .with_context(|| format!("cannot rename {} to {}", tmp.display(), to.display()))
}

/// A private temporary name beside `path`.
fn temp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or(OsStr::new("out")).to_os_string();
    name.push(format!(".tmp{}", std::process::id()));
    path.with_file_name(name)
}

/// Compiles every `user/c/*.c` with gcc into the guest bin directory, named
/// after the file stem. Skipped with a warning when gcc is missing.
fn c_programs(paths: &Paths) -> Result<()> {
    let sources = c_sources(&paths.c_sources())?;
    if sources.is_empty() {
        return Ok(());
    }
    match Command::new("gcc")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
    {
        Ok(_) => {}
        Err(err) if err.kind() == ErrorKind::NotFound => {
            eprintln!("xtask: warning: gcc not found; skipping the C user programs");
            return Ok(());
        }
        Err(err) => return Err(err).context("cannot run gcc"),
    }
    let headers = newest_header(&paths.c_sources())?;
    for source in sources {
        let stem = source
            .file_stem()
            .with_context(|| format!("{} has no file stem", source.display()))?;
        let output = paths.guest_bin().join(stem);
        let inputs = modified(&source)?.max(headers);
        if modified_if_exists(&output)?.is_some_and(|built| built >= inputs) {
            continue;
        }
        let tmp = temp_path(&output);
        let compiled = run_checked(
            Command::new("gcc")
                .args([
                    "-static",
                    "-nostdlib",
                    "-fno-pie",
                    "-no-pie",
                    "-ffreestanding",
                    "-O1",
                    "-Wl,-Ttext-segment=0x400000",
                    "-e",
                    "_start",
                    "-o",
                ])
                .arg(&tmp)
                .arg(&source),
            &format!("gcc {}", source.display()),
        );
        if compiled.is_err() {
            // Best effort: gcc may not have created the file at all.
            let _ = fs::remove_file(&tmp);
        }
        compiled?;
        fs::rename(&tmp, &output)
            .with_context(|| format!("cannot rename {} to {}", tmp.display(), output.display()))?;
    }
    Ok(())
}

/// The `*.c` files directly in `dir`, sorted; none if `dir` does not exist.
fn c_sources(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut sources: Vec<PathBuf> = files_with_extension(dir, "c")?;
    sources.sort();
    Ok(sources)
}

/// The newest modification time of the `*.h` files directly in `dir`.
fn newest_header(dir: &Path) -> Result<SystemTime> {
    let mut newest = SystemTime::UNIX_EPOCH;
    for header in files_with_extension(dir, "h")? {
        newest = newest.max(modified(&header)?);
    }
    Ok(newest)
}

/// The regular files directly in `dir` whose extension is `ext`.
fn files_with_extension(dir: &Path, ext: &str) -> Result<Vec<PathBuf>> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => return Err(err).with_context(|| format!("cannot list {}", dir.display())),
    };
    let mut files = Vec::new();
    for entry in entries {
        let path = entry
            .with_context(|| format!("cannot list {}", dir.display()))?
            .path();
        if path.extension() == Some(OsStr::new(ext)) && path.is_file() {
            files.push(path);
        }
    }
    Ok(files)
}

fn modified(path: &Path) -> Result<SystemTime> {
    fs::metadata(path)
        .and_then(|meta| meta.modified())
        .with_context(|| format!("cannot read the modification time of {}", path.display()))
}

fn modified_if_exists(path: &Path) -> Result<Option<SystemTime>> {
    match fs::metadata(path).and_then(|meta| meta.modified()) {
        Ok(time) => Ok(Some(time)),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(err)
            .with_context(|| format!("cannot read the modification time of {}", path.display())),
    }
}

/// Builds the `faultline` VMM for the host ([`Paths::vmm_bin`]), linked
/// statically when the C library's static archive is installed: a static
/// `faultline` starts about a millisecond sooner on these hosts (no dynamic
/// loader, no shared libraries to map and relocate), a seventh of a short
/// run's whole life. Without the archive it is linked dynamically, with a
/// note saying so. Fails if cargo fails.
fn vmm(paths: &Paths) -> Result<()> {
    let mut cmd = cargo::host(paths);
    cmd.args(["build", "-p", "faultline-vmm", "--bin", "faultline"])
        .args(["--release", "--target", HOST_TARGET]);
    if static_libc_installed() {
        cmd.env("CARGO_ENCODED_RUSTFLAGS", "-Ctarget-feature=+crt-static");
    } else {
        eprintln!(
            "xtask: note: no static C library (libc.a: libc6-dev on Debian and Ubuntu, \
             glibc-static on Fedora), so faultline is linked dynamically (it starts ~1 ms slower)"
        );
    }
    run_checked(&mut cmd, "the VMM build")
}

/// Whether the C compiler that links Rust programs (`cc`) finds `libc.a`: it
/// prints the archive's full path when it does, the bare name otherwise.
fn static_libc_installed() -> bool {
    let Ok(out) = Command::new("cc").arg("-print-file-name=libc.a").output() else {
        return false;
    };
    let path = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    out.status.success() && path.is_absolute() && path.is_file()
}
