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

mod fileio;
mod floors;
mod parse;

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::build;
use crate::cargo;
use crate::host_fault::{self, HostFault};
use crate::paths::Paths;
use parse::{line_starting, median, number_after, number_before, profile_row, profile_tsc_ghz};

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

/// How much of each measurement one CPU mode does.
struct Plan {
    mode: &'static str,
    halt_runs: usize,
    syscall_runs: usize,
    syscalls: usize,
    /// Runs and pages of `bench-fault all` (zero, file and stack faults).
    fault_runs: usize,
    fault_pages: usize,
    /// Runs of `bench-fault swap`; 0 skips it.
    swap_runs: usize,
    trap_runs: usize,
    traps: usize,
    mmap_runs: usize,
    mmap_pages: usize,
    /// Runs of `bench-fork fork` and `bench-fork exit`, pages, forks per run.
    fork_runs: usize,
    fork_pages: usize,
    fork_repeats: usize,
}

impl Plan {
    /// The PVM guest mode (`auto` on these hosts): fast, so many runs.
    fn auto(runs: usize, quick: bool) -> Plan {
        let few = (runs / 4).clamp(3, 7);
        Plan {
            mode: "auto",
            halt_runs: runs,
            syscall_runs: runs.clamp(3, 7),
            syscalls: if quick { 20_000 } else { 200_000 },
            fault_runs: few,
            fault_pages: if quick { 128 } else { 512 },
            swap_runs: if quick { 1 } else { 3 },
            trap_runs: few,
            traps: if quick { 2_000 } else { 10_000 },
            mmap_runs: few,
            mmap_pages: if quick { 64 } else { 256 },
            fork_runs: few,
            fork_pages: 512,
            fork_repeats: if quick { 3 } else { 5 },
        }
    }

    /// The emulated native mode (~1 µs per kernel instruction here): a few
    /// runs of small sizes, no swap (thousands of faults of ~1 ms each).
    fn native(runs: usize, quick: bool) -> Plan {
        let few = if quick { 1 } else { 3 };
        Plan {
            mode: "native",
            halt_runs: (runs / 5).max(few),
            syscall_runs: few,
            syscalls: if quick { 500 } else { 2_000 },
            fault_runs: few,
            fault_pages: if quick { 16 } else { 64 },
            swap_runs: 0,
            trap_runs: few,
            traps: if quick { 50 } else { 200 },
            mmap_runs: few,
            mmap_pages: if quick { 4 } else { 16 },
            fork_runs: few,
            fork_pages: 256,
            fork_repeats: 1,
        }
    }
}

/// A timed `cargo test` run.
#[derive(Clone, Copy)]
struct Timed {
    time: Duration,
    passed: bool,
}

/// One mode's samples by name (e.g. `zero.total`), and its timed test runs.
#[derive(Default)]
struct Figures {
    samples: BTreeMap<&'static str, Vec<f64>>,
    suite: Option<Timed>,
    vm_group: Option<Timed>,
}

impl Figures {
    fn push(&mut self, key: &'static str, value: f64) {
        self.samples.entry(key).or_default().push(value);
    }

    fn get(&self, key: &str) -> Option<f64> {
        median(self.samples.get(key)?)
    }
}

/// One table row: the name and the two modes' cells.
type Row = (String, String, String);

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

/// The host-side phases of a run in `--stats` (`host phases (ms): kernel
/// 0.6, image 0.6, ...`): (sample key, name in the line, table label).
const PHASES: [(&str, &str, &str); 7] = [
    ("phase.kernel", "kernel ", "  kernel read and check"),
    ("phase.image", "image ", "  file-system image (cached)"),
    ("phase.vm", "vm ", "  VM, irqchip and vCPU creation"),
    ("phase.memory", "memory ", "  guest RAM registration"),
    (
        "phase.boot",
        "boot ",
        "  boot state (kernel load, registers, devices)",
    ),
    ("phase.run", "run ", "  run (the guest)"),
    ("phase.teardown", "teardown ", "  teardown"),
];

/// Records the start-up phases of one `--stats` report.
fn phases(stderr: &str, f: &mut Figures) -> Result<()> {
    let line = line_starting(stderr, "  host phases (ms):")
        .with_context(|| format!("--stats printed no host phases:\n{stderr}"))?;
    for (key, name, _) in PHASES {
        let value = number_after(line, &format!(" {name}"))
            .with_context(|| format!("no `{name}` in `{line}`"))?;
        f.push(key, value);
    }
    Ok(())
}

fn halt(paths: &Paths, plan: &Plan, f: &mut Figures) -> Result<()> {
    for _ in 0..plan.halt_runs {
        // The lifetime as a user sees it: no --stats (its report and the
        // counters it reads cost time of their own).
        let (wall, _, _) = faultline(paths, plan.mode, &["--quiet", "--", "halt"])?;
        f.push("halt.wall_ms", wall.as_secs_f64() * 1e3);
        let (_, _, stderr) = faultline(paths, plan.mode, &["--stats", "--quiet", "--", "halt"])?;
        let first = number_after(&stderr, "first user instruction at ")
            .context("--stats printed no first-user-instruction time")?;
        f.push("halt.first_ms", first);
        phases(&stderr, f)?;
    }
    // One run with an empty image cache: the image is built.
    let empty = std::env::temp_dir().join(format!("faultline-bench-cache-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&empty);
    let built = faultline_in(
        paths,
        plan.mode,
        &empty,
        &["--stats", "--quiet", "--", "halt"],
    );
    let _ = std::fs::remove_dir_all(&empty);
    let (_, _, stderr) = built?;
    let line = line_starting(&stderr, "  host phases (ms):").unwrap_or_default();
    let image = number_after(line, " image ").context("no image phase in --stats")?;
    f.push("phase.image_built", image);
    Ok(())
}

fn syscall(paths: &Paths, plan: &Plan, f: &mut Figures) -> Result<()> {
    let calls = plan.syscalls.to_string();
    for _ in 0..plan.syscall_runs {
        let (_, out, _) = faultline(paths, plan.mode, &["-q", "--", "bench-syscall", &calls])?;
        let get = |key| number_after(&out, key).context("bench-syscall output");
        f.push("syscall.cycles", get("round trip ")?);
        f.push("syscall.ns", get("cycles (")?);
        f.push("syscall.kernel", get("kernel ")?);
        f.push("syscall.trap", get("trap ")?);
    }
    Ok(())
}

fn trap(paths: &Paths, plan: &Plan, f: &mut Figures) -> Result<()> {
    let n = plan.traps.to_string();
    for _ in 0..plan.trap_runs {
        let (_, out, _) = faultline(paths, plan.mode, &["-q", "--", "bench-trap", &n])?;
        f.push("trap.cycles", figure(&out, "bench-trap:", " cycles/trap")?);
        f.push("trap.ns", figure(&out, "bench-trap:", " ns)")?);
        let trapping = figure(&out, "bench-trap:", " trapping instructions/trap")?;
        f.push("trap.trapping", trapping);
    }
    Ok(())
}

/// The fault kinds of `bench-fault all`: (its name, the profile's name).
const FAULT_KINDS: [(&str, &str); 3] = [
    ("zero", "lazy-anon"),
    ("file", "lazy-file"),
    ("stack", "stack-growth"),
];

/// Sample keys of a fault kind.
struct FaultKeys {
    /// Cycles per page touched, timed by the program around its loop.
    total: &'static str,
    /// The kernel's time per page touched: the `--profile` table's
    /// count x mean of the kind, over the pages the program touched.
    per_page: &'static str,
    /// The kernel's p50 latency per fault (trap entry to trap return).
    p50: &'static str,
    /// Faults of the kind per page touched (a swap-in brings in a run).
    faults_per_page: &'static str,
}

fn fault_keys(kind: &str) -> FaultKeys {
    let k = |total, per_page, p50, faults_per_page| FaultKeys {
        total,
        per_page,
        p50,
        faults_per_page,
    };
    match kind {
        "zero" => k("zero.total", "zero.page", "zero.kernel", "zero.fpp"),
        "file" => k("file.total", "file.page", "file.kernel", "file.fpp"),
        "stack" => k("stack.total", "stack.page", "stack.kernel", "stack.fpp"),
        "cow" => k("cow.total", "cow.page", "cow.kernel", "cow.fpp"),
        _ => k("swap.total", "swap.page", "swap.kernel", "swap.fpp"),
    }
}

/// Records the figures of fault kind `kind` (`profile_kind` in the profile)
/// from the program's `bench-fault: KIND N faults, C cycles/fault` line
/// (N: pages touched) and the `--profile` report of the same run.
fn push_fault(
    f: &mut Figures,
    kind: &str,
    out: &str,
    profile: &str,
    profile_kind: &str,
) -> Result<()> {
    let keys = fault_keys(kind);
    let prefix = format!("bench-fault: {kind} ");
    let pages = figure(out, &prefix, " faults")?;
    f.push(keys.total, figure(out, &prefix, " cycles/fault")?);
    let row = profile_row(profile, profile_kind)
        .with_context(|| format!("no {profile_kind} row in the profile:\n{profile}"))?;
    let ghz = profile_tsc_ghz(profile)
        .with_context(|| format!("no TSC rate in the profile:\n{profile}"))?;
    f.push(keys.p50, row.p50 as f64);
    if pages > 0.0 {
        f.push(keys.per_page, row.total_cycles(ghz) / pages);
        f.push(keys.faults_per_page, row.count as f64 / pages);
    }
    Ok(())
}

/// The rows of one fault kind: the program's cycles per page touched, the
/// kernel handler's part of them, and the handler's p50 per fault with the
/// faults per page that relate the two (see [`FAULT_NOTE`]).
fn fault_rows(title: &str, keys: &FaultKeys, value: impl Fn(&str, &str, usize) -> Row) -> Vec<Row> {
    vec![
        value(&format!("{title}, total per page (cycles)"), keys.total, 0),
        value(
            "  of which kernel handler, mean per page (cycles)",
            keys.per_page,
            0,
        ),
        value("  kernel handler per fault, p50 (cycles)", keys.p50, 0),
        value("  faults per page", keys.faults_per_page, 2),
    ]
}

/// How the fault rows relate, printed under the table.
const FAULT_NOTE: &str = "\
faults: `total per page` is the program's loop time over the pages it touched;
  `of which kernel handler` is the --profile table's count x mean latency (trap
  entry to trap return) over the same pages, so it is at most the total: the
  rest is trap delivery and return and shadow-page fills (hypervisor time in the
  PVM mode) and the loop itself; `per fault, p50` is a median per fault, and a
  swap-in fault brings in a run of pages (`faults per page` < 1), so it can
  exceed the total per page.
";

fn faults(paths: &Paths, plan: &Plan, f: &mut Figures) -> Result<()> {
    let pages = plan.fault_pages.to_string();
    for _ in 0..plan.fault_runs {
        let args = ["-q", "--profile", "--", "bench-fault", "all", &pages];
        let (_, out, profile) = faultline(paths, plan.mode, &args)?;
        for (kind, profile_kind) in FAULT_KINDS {
            push_fault(f, kind, &out, &profile, profile_kind)?;
        }
    }
    Ok(())
}

fn swap(paths: &Paths, plan: &Plan, f: &mut Figures) -> Result<()> {
    for _ in 0..plan.swap_runs {
        let args = [
            "-q",
            "--profile",
            "--user-mem",
            "8M",
            "--swap",
            "64M",
            "--",
            "bench-fault",
            "swap",
        ];
        let (_, out, profile) = faultline(paths, plan.mode, &args)?;
        push_fault(f, "swap", &out, &profile, "swap-in")?;
        f.push("swap.pps", figure(&out, "bench-fault: swap ", " pages/s")?);
    }
    Ok(())
}

fn cow(paths: &Paths, plan: &Plan, f: &mut Figures) -> Result<()> {
    let pages = plan.fault_pages.to_string();
    for _ in 0..plan.fault_runs {
        let args = ["-q", "--profile", "--", "bench-fault", "cow", &pages];
        let (_, out, profile) = faultline(paths, plan.mode, &args)?;
        push_fault(f, "cow", &out, &profile, "copy-on-write")?;
    }
    Ok(())
}

fn mmap(paths: &Paths, plan: &Plan, f: &mut Figures) -> Result<()> {
    let pages = plan.mmap_pages.to_string();
    for _ in 0..plan.mmap_runs {
        let (_, out, _) = faultline(paths, plan.mode, &["-q", "--", "bench-mmap", &pages])?;
        f.push("mmap.cycles", figure(&out, "bench-mmap:", " cycles/page")?);
    }
    Ok(())
}

fn fork_exit(paths: &Paths, plan: &Plan, f: &mut Figures) -> Result<()> {
    let (pages, repeats) = (plan.fork_pages.to_string(), plan.fork_repeats.to_string());
    for _ in 0..plan.fork_runs {
        for (kind, key) in [("fork", "fork.cycles"), ("exit", "exit.cycles")] {
            let args = ["-q", "--", "bench-fork", kind, &pages, &repeats];
            let (_, out, _) = faultline(paths, plan.mode, &args)?;
            let prefix = format!("bench-fork: {kind} ");
            f.push(key, figure(&out, &prefix, " cycles/page")?);
        }
        let forks = (plan.fork_repeats * 20).to_string();
        let args = ["-q", "--", "bench-fork", "loop", "64", &forks];
        let (_, out, _) = faultline(paths, plan.mode, &args)?;
        f.push(
            "loop.cycles",
            figure(&out, "bench-fork: loop ", " cycles/fork")?,
        );
    }
    Ok(())
}

/// The operations `bench-exits` reports: (its name, the sample key).
const EXIT_OPS: [(&str, &str); 5] = [
    ("fork + exit + wait", "exits.fork"),
    ("fork + exec + exit + wait", "exits.exec"),
    ("context switch", "exits.switch"),
    ("zero-fill fault", "exits.zero"),
    ("copy-on-write fault", "exits.cow"),
];

/// The counters `bench-exits` prints per operation.
const EXIT_KINDS: [&str; 5] = ["set-cr3", "flush-all", "flush-page", "write-msr", "halt"];

fn exits(paths: &Paths, plan: &Plan, f: &mut Figures) -> Result<()> {
    let rounds = if plan.mode == "native" { "10" } else { "50" };
    let (_, out, _) = faultline(paths, plan.mode, &["-q", "--", "bench-exits", rounds])?;
    for (op, key) in EXIT_OPS {
        let line = line_starting(&out, &format!("bench-exits: {op}: "))
            .with_context(|| format!("no `{op}` line in the output:\n{out}"))?;
        let mut total = 0.0;
        for kind in EXIT_KINDS {
            total += number_before(line, &format!(" {kind}"))
                .with_context(|| format!("no {kind} count in `{line}`"))?;
        }
        f.push(key, total);
    }
    Ok(())
}

/// Runs every measurement of `plan`; one that fails is reported and left
/// out of the table (`-`) rather than ending the benchmark.
fn measure_mode(paths: &Paths, plan: &Plan) -> Figures {
    type Step = fn(&Paths, &Plan, &mut Figures) -> Result<()>;
    let steps: [(&str, Step); 11] = [
        ("halt", halt),
        ("minimal-guest floors", floors::measure),
        ("null syscall", syscall),
        ("bare trap", trap),
        ("zero/file/stack faults", faults),
        ("copy-on-write faults", cow),
        ("swap", swap),
        ("mmap write-back", mmap),
        ("fork and exit", fork_exit),
        ("hypercalls per operation", exits),
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

/// Times `cargo test -p faultline-tests [extra]` against the built guest.
fn time_tests(paths: &Paths, mode: &str, extra: &[&str]) -> Result<Timed> {
    eprintln!("xtask bench: --cpu-mode {mode}: cargo test -p faultline-tests {extra:?}");
    let start = Instant::now();
    let status = cargo::host(paths)
        .args(["test", "--no-fail-fast", "-p", "faultline-tests"])
        .args(extra)
        .env("FAULTLINE_BIN", paths.vmm_bin())
        .env("FAULTLINE_KERNEL", paths.kernel_elf())
        .env("FAULTLINE_USER_DIR", paths.guest_bin())
        .env("FAULTLINE_DATA_DIR", paths.data_dir())
        .env("FAULTLINE_CPU_MODE", mode)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .context("cannot run the guest suite")?;
    let timed = Timed {
        time: start.elapsed(),
        passed: status.success(),
    };
    if !timed.passed {
        eprintln!("xtask bench: --cpu-mode {mode}: some tests failed (see `cargo xtask test`)");
    }
    Ok(timed)
}

/// Builds, measures both modes, prints the table.
pub fn run(paths: &Paths, options: &Options) -> Result<()> {
    let started = Instant::now();
    build::all(paths)?;
    let suite = options.suite && !options.quick;
    if suite {
        // Build the suite's test binaries first so the timing excludes them.
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
            f.suite = Some(time_tests(paths, plan.mode, &[])?);
        }
        figures[0].vm_group = Some(time_tests(paths, plans[0].mode, &["--test", "vm"])?);
    }
    print!("{}", table(&plans, &figures, &host));
    println!(
        "(medians; cycles are TSC cycles; `-` = not measured in that mode; {:.0} s in all)",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// A cell: the value with `decimals` digits, or `-`.
fn cell(value: Option<f64>, decimals: usize) -> String {
    value.map_or_else(|| "-".into(), |v| format!("{v:.decimals$}"))
}

/// A ratio cell `A / B` for `value` over the two floors (the host's minor
/// fault and the minimal guest's page fault).
fn ratios(value: Option<f64>, host: f64, fault: Option<f64>) -> String {
    let Some(v) = value else {
        return "-".into();
    };
    let fault = fault.map_or_else(|| "-".into(), |t| format!("{:.2}x", v / t));
    format!("{:.0}x / {fault}", v / host)
}

/// A timed test run's cell: seconds, marked if tests failed.
fn timed_cell(t: Option<Timed>) -> String {
    t.map_or_else(
        || "-".into(),
        |t| {
            let mark = if t.passed { "" } else { " (failed)" };
            format!("{:.1}{mark}", t.time.as_secs_f64())
        },
    )
}

/// The whole table as text.
fn table(plans: &[Plan; 2], figures: &[Figures], host: &HostFault) -> String {
    let (a, b) = (&figures[0], &figures[1]);
    let mut rows: Vec<Row> = Vec::new();
    let value = |name: &str, key: &str, d: usize| {
        (name.to_string(), cell(a.get(key), d), cell(b.get(key), d))
    };
    rows.push(value(
        "halt: boot to first user instruction (ms)",
        "halt.first_ms",
        2,
    ));
    rows.push(value(
        "halt: whole-VM lifetime, wall (ms)",
        "halt.wall_ms",
        2,
    ));
    rows.push((
        "halt: host phases, --stats (ms)".into(),
        String::new(),
        String::new(),
    ));
    for (key, _, label) in PHASES {
        rows.push(value(label, key, 2));
    }
    rows.push(value(
        "  file-system image, cache miss (built)",
        "phase.image_built",
        2,
    ));
    rows.push(value(
        "null syscall round trip (cycles)",
        "syscall.cycles",
        0,
    ));
    rows.push(value("null syscall round trip (ns)", "syscall.ns", 0));
    rows.push(value("  of which kernel (cycles)", "syscall.kernel", 0));
    rows.push(value(
        "  of which trap and return (cycles)",
        "syscall.trap",
        0,
    ));
    rows.push((
        "  total / minimal-guest null syscall".into(),
        floors::ratio(a.get("syscall.cycles"), a.get(floors::SYSCALL)),
        floors::ratio(b.get("syscall.cycles"), b.get(floors::SYSCALL)),
    ));
    let host_cell = |v: f64| (format!("{v:.0}"), format!("{v:.0}"));
    let (x, y) = host_cell(host.cycles);
    rows.push(("floor: host Linux minor fault (cycles/page)".into(), x, y));
    let (x, y) = host_cell(host.ns);
    rows.push(("floor: host Linux minor fault (ns/page)".into(), x, y));
    rows.extend(floors::rows(a, b));
    rows.push(value(
        "kernel bare trap, int3 round trip (cycles)",
        "trap.cycles",
        0,
    ));
    rows.push(value(
        "kernel bare trap, int3 round trip (ns)",
        "trap.ns",
        0,
    ));
    rows.push((
        "  total / minimal-guest int3".into(),
        floors::ratio(a.get("trap.cycles"), a.get(floors::INT3)),
        floors::ratio(b.get("trap.cycles"), b.get(floors::INT3)),
    ));
    rows.push(value(
        "  PVM-trapping instructions per trap",
        "trap.trapping",
        2,
    ));
    let kinds = [
        ("zero", "zero-fill fault"),
        ("file", "lazy file fault"),
        ("stack", "stack-growth fault"),
        ("swap", "swap-in (+ swap-out)"),
    ];
    for (kind, title) in kinds {
        let keys = fault_keys(kind);
        let total = keys.total;
        rows.extend(fault_rows(title, &keys, value));
        if kind == "swap" {
            rows.push(value("  pages per second (in and out)", "swap.pps", 0));
        }
        rows.push((
            "  total / host minor fault / minimal-guest fault".into(),
            ratios(a.get(total), host.cycles, a.get(floors::FAULT)),
            ratios(b.get(total), host.cycles, b.get(floors::FAULT)),
        ));
    }
    rows.extend(fault_rows("copy-on-write fault", &fault_keys("cow"), value));
    let over_zero = |f: &Figures| {
        let (Some(cow), Some(zero)) = (f.get("cow.total"), f.get("zero.total")) else {
            return "-".to_string();
        };
        format!("{:.2}x", cow / zero)
    };
    rows.push((
        "  total / zero-fill fault total".into(),
        over_zero(a),
        over_zero(b),
    ));
    rows.extend(fileio::rows(a, b, "zero.total", floors::FAULT));
    rows.push(value("mmap write-back per page (cycles)", "mmap.cycles", 0));
    rows.push(value(
        "fork: share per resident page, COW (cycles)",
        "fork.cycles",
        0,
    ));
    rows.push(value(
        "fork + exit + wait, 64 pages resident (cycles)",
        "loop.cycles",
        0,
    ));
    rows.push(value(
        "exit: teardown per resident page (cycles)",
        "exit.cycles",
        0,
    ));
    for (op, key) in EXIT_OPS {
        rows.push(value(&format!("hypercalls per {op}"), key, 2));
    }
    rows.push((
        "guest suite wall time (s)".into(),
        timed_cell(a.suite),
        timed_cell(b.suite),
    ));
    rows.push((
        "vm test group wall time (s)".into(),
        timed_cell(a.vm_group),
        timed_cell(b.vm_group),
    ));

    let mut s = format!(
        "{:<60} {:>16} {:>16}\n",
        "benchmark (median)", plans[0].mode, plans[1].mode
    );
    for (name, x, y) in rows {
        s += &format!("{name:<60} {x:>16} {y:>16}\n");
    }
    s += FAULT_NOTE;
    if let (Some(x), Some(y)) = (a.suite, b.suite) {
        s += &format!(
            "native / {} suite time ratio: {:.1}x\n",
            plans[0].mode,
            y.time.as_secs_f64() / x.time.as_secs_f64()
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_and_ratios() {
        assert_eq!(cell(Some(1.234), 2), "1.23");
        assert_eq!(cell(None, 0), "-");
        assert_eq!(
            ratios(Some(10_000.0), 1_000.0, Some(4_000.0)),
            "10x / 2.50x"
        );
        assert_eq!(ratios(Some(10_000.0), 1_000.0, None), "10x / -");
        assert_eq!(ratios(None, 1_000.0, Some(1.0)), "-");
    }

    #[test]
    fn the_table_shows_missing_figures_as_dashes() {
        let mut a = Figures::default();
        a.push("zero.total", 90_000.0);
        a.push("zero.total", 80_000.0);
        a.push("zero.total", 85_000.0);
        a.push("floor.fault", 75_000.0);
        let plans = [Plan::auto(21, false), Plan::native(21, false)];
        let host = HostFault {
            cycles: 1_000.0,
            ns: 400.0,
        };
        let t = table(&plans, &[a, Figures::default()], &host);
        let zero = line_starting(&t, "zero-fill fault, total").unwrap();
        assert!(
            zero.contains("85000") && zero.trim_end().ends_with('-'),
            "{zero}"
        );
        let ratio = t
            .lines()
            .find(|l| l.contains("85x / 1.13x"))
            .expect("the zero-fill ratio row");
        assert!(ratio.trim_end().ends_with('-'), "{ratio}");
        assert!(t.contains("floor: host Linux minor fault (cycles/page)"));
    }

    #[test]
    fn swap_in_figures_add_up_per_page() {
        // A real run: 8192 pages touched, 1029 swap-in faults of ~8 pages.
        let out = "bench-fault: swap 8192 faults, 131824 cycles/fault (53906 ns), 18550 pages/s\n";
        let profile = "\
faultline: fault profile: 5138 faults, 3607 spans (TSC 2.445 GHz)
  fault kind        count    p50 cyc        µs    p90 cyc        µs    p99 cyc        µs    max cyc        µs   mean µs
  lazy-anon          4097       2034      0.83      13411      5.48     685607    280.36   22709760   9286.63     33.12
  swap-in            1029     327293    133.84     552627    225.98   12582912   5145.49   27197572  11121.81    357.45
  stage share          entry   lock-wait      lookup frame-alloc    eviction        fill         map      return
";
        let mut f = Figures::default();
        push_fault(&mut f, "swap", out, profile, "swap-in").unwrap();
        let total = f.get("swap.total").unwrap();
        let kernel = f.get("swap.page").unwrap();
        assert!(
            kernel < total,
            "{kernel} per page in the kernel > {total} in all"
        );
        assert!((kernel - 1029.0 * 357_450.0 * 2.445 / 8192.0).abs() < 1.0);
        assert_eq!(f.get("swap.kernel"), Some(327_293.0));
        assert!((f.get("swap.fpp").unwrap() - 1029.0 / 8192.0).abs() < 1e-9);
        assert!(push_fault(&mut f, "swap", out, "no profile", "swap-in").is_err());
        let plans = [Plan::auto(21, false), Plan::native(21, false)];
        let host = HostFault {
            cycles: 1_000.0,
            ns: 400.0,
        };
        let t = table(&plans, &[f, Figures::default()], &host);
        for row in [
            "swap-in (+ swap-out), total per page (cycles)",
            "  of which kernel handler, mean per page (cycles)",
            "  faults per page",
        ] {
            assert!(t.contains(row), "no `{row}` in\n{t}");
        }
        assert!(t.contains(FAULT_NOTE));
    }
}
