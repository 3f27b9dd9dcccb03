//! `cargo xtask bench [--runs N] [--quick] [--no-suite]`: builds, then
//! measures, in each CPU mode (`auto`, which is the PVM guest mode on PVM
//! hosts, and `native`), and prints one table of medians, both modes side by
//! side:
//!
//! - boot to the first user instruction and the whole-VM lifetime of `halt`,
//!   and its host-side phases from `--stats` (kernel, image, VM creation,
//!   guest RAM, boot state, run, teardown), plus the image phase of one run
//!   whose image cache is empty;
//! - the null system call round trip, split into the kernel's own share and
//!   the trap around it (`bench-syscall`);
//! - the floors: the host's own Linux minor fault ([`crate::host_fault`]) and
//!   the minimal guest's null hypercall, `int3`, user page fault, shadow fill
//!   and null system call ([`floors`], measured in the same run); every
//!   kernel row is also shown as a ratio to its minimal-guest floor;
//! - the kernel's bare trap (`bench-trap`: `int3` with a handler that only
//!   returns);
//! - zero-fill, lazy file and stack-growth faults (`bench-fault all`) and
//!   swap-out + swap-in (`bench-fault swap` under `--user-mem 8M --swap 64M`):
//!   cycles per fault timed by the program, the kernel's own share (p50 of
//!   the `--profile` table of the same run), and the ratio to the host's
//!   minor fault and to the minimal guest's page fault;
//! - copy-on-write faults (`bench-fault cow`: a forked child writing pages it
//!   shares with its parent), with their ratio to the zero-fill fault;
//! - mmap write-back, fork (copy-on-write sharing) and exit per resident
//!   page, and a fork + exit + wait round trip (`bench-mmap`, `bench-fork`);
//! - the privileged operations asked of the host (hypercalls in the PVM
//!   guest mode) per fork + exit + wait, per exec, per context switch, per
//!   zero-fill and copy-on-write fault (`bench-exits`, from the kernel's
//!   counters);
//! - file reads and lazy file faults from the disk and from the block cache,
//!   and the `syn-read` workload ([`fileio`]);
//! - the guest test suite's wall time per mode and the vm group's in `auto`
//!   (build excluded).
//!
//! The emulated native mode is ~100x slower: it runs fewer repetitions with
//! smaller sizes and skips what would take too long there (shown as `-`).

mod boot;
mod faults;
mod fileio;
mod floors;
mod ops;
mod parse;
mod plan;
mod table;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::build;
use crate::cargo;
use crate::host_fault;
use crate::paths::Paths;
use parse::{line_starting, number_before};
use plan::{Figures, Plan, Timed};

/// What `cargo xtask bench` was asked for.
pub struct Options {
    /// Repetitions of the boot measurement in the PVM guest mode; the other
    /// measurements and the native mode use fewer (see [`Plan`]).
    pub runs: usize,
    /// Also time the guest test suite in each mode and the vm group.
    pub suite: bool,
    /// A fast smoke run: one or few repetitions, small sizes, no suite.
    pub quick: bool,
}

/// Runs `faultline` with `args`; returns (wall time, stdout, stderr).
fn faultline(paths: &Paths, mode: &str, args: &[&str]) -> Result<(Duration, String, String)> {
    faultline_run(paths, &paths.kernel_elf(), &paths.image_cache(), mode, args)
}

/// Runs `faultline --kernel KERNEL` with `args`; returns (wall time, stdout, stderr).
fn faultline_with(
    paths: &Paths,
    kernel: &std::path::Path,
    mode: &str,
    args: &[&str],
) -> Result<(Duration, String, String)> {
    faultline_run(paths, kernel, &paths.image_cache(), mode, args)
}

/// [`faultline`] with its image cache in `cache`.
fn faultline_in(
    paths: &Paths,
    mode: &str,
    cache: &std::path::Path,
    args: &[&str],
) -> Result<(Duration, String, String)> {
    faultline_run(paths, &paths.kernel_elf(), cache, mode, args)
}

/// Runs `faultline --kernel KERNEL` with its image cache in `cache`.
fn faultline_run(
    paths: &Paths,
    kernel: &std::path::Path,
    cache: &std::path::Path,
    mode: &str,
    args: &[&str],
) -> Result<(Duration, String, String)> {
    let start = Instant::now();
    let out = Command::new(paths.vmm_bin())
        .env(cargo::CACHE_DIR_ENV, cache)
        .arg("--kernel")
        .arg(kernel)
        .arg("--user-dir")
        .arg(paths.guest_bin())
        .args(["--cpu-mode", mode])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .context("cannot run faultline")?;
    let wall = start.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    if !out.status.success() {
        bail!(
            "faultline {args:?} failed ({}):\n{stdout}{stderr}",
            out.status
        );
    }
    Ok((wall, stdout, stderr))
}

/// The number before `suffix` on the output line starting with `prefix`.
fn figure(out: &str, prefix: &str, suffix: &str) -> Result<f64> {
    line_starting(out, prefix)
        .and_then(|line| number_before(line, suffix))
        .with_context(|| format!("no `{prefix}... {suffix}` in the output:\n{out}"))
}

/// Runs every measurement of `plan`; one that fails is reported and left
/// out of the table (`-`) rather than ending the benchmark.
fn measure_mode(paths: &Paths, plan: &Plan) -> Figures {
    type Step = fn(&Paths, &Plan, &mut Figures) -> Result<()>;
    let steps: [(&str, Step); 11] = [
        ("halt", boot::halt),
        ("minimal-guest floors", floors::measure),
        ("null syscall", ops::syscall),
        ("bare trap", ops::trap),
        ("zero/file/stack faults", faults::faults),
        ("copy-on-write faults", faults::cow),
        ("swap", faults::swap),
        ("mmap write-back", ops::mmap),
        ("fork and exit", ops::fork_exit),
        ("hypercalls per operation", ops::exits),
        ("file cache", fileio::measure),
    ];
    let mut f = Figures::default();
    for (name, step) in steps {
        eprintln!("xtask bench: --cpu-mode {}: {name}", plan.mode);
        if let Err(err) = step(paths, plan, &mut f) {
            eprintln!(
                "xtask bench: --cpu-mode {}: {name} failed, left out: {err:#}",
                plan.mode
            );
        }
    }
    f
}

/// Times the guest suite, or the tests `filter` selects, in `mode`, run as
/// `cargo xtask test` runs them.
fn time_tests(paths: &Paths, mode: &str, filter: Option<&str>) -> Result<Timed> {
    eprintln!(
        "xtask bench: --cpu-mode {mode}: the guest suite{}",
        filter.map_or_else(String::new, |f| format!(" ({f})"))
    );
    let (time, passed) = crate::test::time_guest_suite(paths, mode, filter)?;
    if !passed {
        eprintln!("xtask bench: --cpu-mode {mode}: some tests failed (see `cargo xtask test`)");
    }
    Ok(Timed { time, passed })
}

/// Builds, measures both modes, prints the table.
pub fn run(paths: &Paths, options: &Options) -> Result<()> {
    let started = Instant::now();
    build::all(paths)?;
    let suite = options.suite && !options.quick;
    if suite {
        // Build the suite's test binaries first: a failed build stops the
        // bench before its minutes of measurements.
        let status = cargo::host(paths)
            .args(["test", "--no-run", "-p", "faultline-tests"])
            .status()
            .context("cannot build the guest suite")?;
        if !status.success() {
            bail!("building the guest suite failed");
        }
    }
    eprintln!("xtask bench: host minor faults");
    let host = host_fault::measure(8192, if options.quick { 3 } else { 11 })?;
    let plans = [
        Plan::auto(options.runs, options.quick),
        Plan::native(options.runs, options.quick),
    ];
    let mut figures: Vec<Figures> = plans.iter().map(|p| measure_mode(paths, p)).collect();
    if suite {
        for (plan, f) in plans.iter().zip(&mut figures) {
            f.suite = Some(time_tests(paths, plan.mode, None)?);
        }
        figures[0].vm_group = Some(time_tests(paths, plans[0].mode, Some("vm::"))?);
    }
    print!("{}", table::table(&plans, &figures, &host));
    println!(
        "(medians; cycles are TSC cycles; `-` = not measured in that mode; {:.0} s in all)",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
