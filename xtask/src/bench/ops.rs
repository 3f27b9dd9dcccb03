//! The kernel operation measurements: the null system call round trip
//! (`bench-syscall`), the bare trap (`bench-trap`), mmap write-back
//! (`bench-mmap`), fork, exit and fork + exit + wait (`bench-fork`), and the
//! hypercalls per operation (`bench-exits`).

use anyhow::{Context, Result};

use super::parse::{line_starting, number_after, number_before};
use super::plan::{Figures, Plan};
use super::{faultline, figure};
use crate::paths::Paths;

pub fn syscall(paths: &Paths, plan: &Plan, f: &mut Figures) -> Result<()> {
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

pub fn trap(paths: &Paths, plan: &Plan, f: &mut Figures) -> Result<()> {
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

pub fn mmap(paths: &Paths, plan: &Plan, f: &mut Figures) -> Result<()> {
    let pages = plan.mmap_pages.to_string();
    for _ in 0..plan.mmap_runs {
        let (_, out, _) = faultline(paths, plan.mode, &["-q", "--", "bench-mmap", &pages])?;
        f.push("mmap.cycles", figure(&out, "bench-mmap:", " cycles/page")?);
    }
    Ok(())
}

pub fn fork_exit(paths: &Paths, plan: &Plan, f: &mut Figures) -> Result<()> {
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
pub const EXIT_OPS: [(&str, &str); 5] = [
    ("fork + exit + wait", "exits.fork"),
    ("fork + exec + exit + wait", "exits.exec"),
    ("context switch", "exits.switch"),
    ("zero-fill fault", "exits.zero"),
    ("copy-on-write fault", "exits.cow"),
];

/// The counters `bench-exits` prints per operation.
const EXIT_KINDS: [&str; 5] = ["set-cr3", "flush-all", "flush-page", "write-msr", "halt"];

pub fn exits(paths: &Paths, plan: &Plan, f: &mut Figures) -> Result<()> {
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
