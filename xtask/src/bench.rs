//! `cargo xtask bench [--runs N] [--no-suite]`: builds, then measures, in each
//! CPU mode (`auto`, which is the PVM guest mode on PVM hosts, and `native`):
//!
//! - boot to the first user instruction and the whole-VM lifetime of `halt`
//!   (medians over N runs of the `faultline` process, wall time),
//! - the null system call round trip in guest cycles, split into the kernel's
//!   own share and the trap around it (`bench-syscall`, median over runs),
//! - the guest test suite's wall time (build excluded), and the ratio.
//!
//! Everything is printed as one table at the end.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::build;
use crate::cargo;
use crate::paths::Paths;

/// What `cargo xtask bench` was asked for.
pub struct Options {
    /// Repetitions of each VM measurement in the PVM guest mode (native mode,
    /// being emulated, uses a fifth of them, at least 3).
    pub runs: usize,
    /// Also time the guest test suite in each mode.
    pub suite: bool,
}

/// One mode's figures.
#[derive(Default)]
struct ModeFigures {
    mode: String,
    halt_wall_ms: f64,
    first_user_ms: f64,
    syscall_cycles: u64,
    syscall_ns: u64,
    syscall_kernel_cycles: u64,
    syscall_trap_cycles: u64,
    suite: Option<Duration>,
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn median_u64(v: &mut [u64]) -> u64 {
    v.sort_unstable();
    v[v.len() / 2]
}

/// Runs `faultline` with `args`; returns (wall time, stdout, stderr).
fn faultline(paths: &Paths, mode: &str, args: &[&str]) -> Result<(Duration, String, String)> {
    let start = Instant::now();
    let out = Command::new(paths.vmm_bin())
        .arg("--kernel")
        .arg(paths.kernel_elf())
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

/// The number before `suffix` after `key` in `text`, e.g. `("at ", " ms")`.
fn number_after(text: &str, key: &str) -> Option<f64> {
    let rest = &text[text.find(key)? + key.len()..];
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

fn measure_mode(paths: &Paths, mode: &str, runs: usize, suite: bool) -> Result<ModeFigures> {
    let mut f = ModeFigures {
        mode: mode.to_string(),
        ..Default::default()
    };
    let (mut walls, mut firsts) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        let (wall, _, stderr) = faultline(paths, mode, &["--stats", "--quiet", "--", "halt"])?;
        walls.push(wall.as_secs_f64() * 1e3);
        firsts.push(
            number_after(&stderr, "first user instruction at ")
                .context("--stats printed no first-user-instruction time")?,
        );
    }
    f.halt_wall_ms = median(&mut walls);
    f.first_user_ms = median(&mut firsts);

    let calls = if mode == "native" { "2000" } else { "200000" };
    let (mut rt, mut ns, mut kern, mut trap) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs.clamp(3, 7) {
        let (_, stdout, _) = faultline(paths, mode, &["--quiet", "--", "bench-syscall", calls])?;
        let get = |key| {
            number_after(&stdout, key)
                .map(|v| v as u64)
                .context("bench-syscall output")
        };
        rt.push(get("round trip ")?);
        ns.push(get("cycles (")?);
        kern.push(get("kernel ")?);
        trap.push(get("trap ")?);
    }
    f.syscall_cycles = median_u64(&mut rt);
    f.syscall_ns = median_u64(&mut ns);
    f.syscall_kernel_cycles = median_u64(&mut kern);
    f.syscall_trap_cycles = median_u64(&mut trap);

    if suite {
        let start = Instant::now();
        let status = cargo::host(paths)
            .args(["test", "--no-fail-fast", "-p", "faultline-tests"])
            .env("FAULTLINE_BIN", paths.vmm_bin())
            .env("FAULTLINE_KERNEL", paths.kernel_elf())
            .env("FAULTLINE_USER_DIR", paths.guest_bin())
            .env("FAULTLINE_DATA_DIR", paths.data_dir())
            .env("FAULTLINE_CPU_MODE", mode)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .context("cannot run the guest suite")?;
        if !status.success() {
            bail!("the guest suite failed in mode {mode}; run `cargo xtask test` first");
        }
        f.suite = Some(start.elapsed());
    }
    Ok(f)
}

/// Builds, measures both modes, prints the table.
pub fn run(paths: &Paths, options: &Options) -> Result<()> {
    build::all(paths)?;
    if options.suite {
        // Build the suite's test binaries first so the timing excludes them.
        let status = cargo::host(paths)
            .args(["test", "--no-run", "-p", "faultline-tests"])
            .status()
            .context("cannot build the guest suite")?;
        if !status.success() {
            bail!("building the guest suite failed");
        }
    }
    let mut figures = Vec::new();
    for (mode, runs) in [
        ("auto", options.runs),
        ("native", (options.runs / 5).max(3)),
    ] {
        eprintln!("xtask bench: measuring --cpu-mode {mode} ({runs} runs)");
        figures.push(measure_mode(paths, mode, runs, options.suite)?);
    }
    println!(
        "{:<44} {:>14} {:>14}",
        "benchmark (median)", figures[0].mode, figures[1].mode
    );
    let row = |name: &str, a: String, b: String| println!("{name:<44} {a:>14} {b:>14}");
    let (p, n) = (&figures[0], &figures[1]);
    row(
        "halt: boot to first user instruction (ms)",
        format!("{:.2}", p.first_user_ms),
        format!("{:.2}", n.first_user_ms),
    );
    row(
        "halt: whole-VM lifetime, wall (ms)",
        format!("{:.2}", p.halt_wall_ms),
        format!("{:.2}", n.halt_wall_ms),
    );
    row(
        "null syscall round trip (cycles)",
        p.syscall_cycles.to_string(),
        n.syscall_cycles.to_string(),
    );
    row(
        "null syscall round trip (ns)",
        p.syscall_ns.to_string(),
        n.syscall_ns.to_string(),
    );
    row(
        "  of which kernel (cycles)",
        p.syscall_kernel_cycles.to_string(),
        n.syscall_kernel_cycles.to_string(),
    );
    row(
        "  of which trap and return (cycles)",
        p.syscall_trap_cycles.to_string(),
        n.syscall_trap_cycles.to_string(),
    );
    if let (Some(a), Some(b)) = (p.suite, n.suite) {
        row(
            "guest suite wall time (s)",
            format!("{:.1}", a.as_secs_f64()),
            format!("{:.1}", b.as_secs_f64()),
        );
        println!(
            "native / {} suite time ratio: {:.1}x",
            p.mode,
            b.as_secs_f64() / a.as_secs_f64()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_read_after_their_key() {
        let s = "bench-syscall: 200000 calls, round trip 1592 cycles (692 ns), kernel 61 cycles, trap 1531 cycles";
        assert_eq!(number_after(s, "round trip "), Some(1592.0));
        assert_eq!(number_after(s, "cycles ("), Some(692.0));
        assert_eq!(number_after(s, "kernel "), Some(61.0));
        assert_eq!(number_after(s, "trap "), Some(1531.0));
        assert_eq!(
            number_after("first user instruction at 4.35 ms", "at "),
            Some(4.35)
        );
        assert_eq!(number_after("nothing here", "at "), None);
    }

    #[test]
    fn medians() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median_u64(&mut [5, 1, 9, 7]), 7);
    }
}
