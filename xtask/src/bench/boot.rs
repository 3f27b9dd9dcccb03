//! The boot measurements: `halt`'s time to the first user instruction, its
//! whole-VM lifetime, the host-side phases of `--stats`, and the image phase
//! of one run whose image cache is empty.

use anyhow::{Context, Result};

use super::parse::{line_starting, number_after};
use super::plan::{Figures, Plan};
use super::{faultline, faultline_in};
use crate::paths::Paths;

/// The host-side phases of a run in `--stats` (`host phases (ms): kernel
/// 0.6, image 0.6, ...`): (sample key, name in the line, table label).
pub const PHASES: [(&str, &str, &str); 7] = [
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
pub fn phases(stderr: &str, f: &mut Figures) -> Result<()> {
    let line = line_starting(stderr, "  host phases (ms):")
        .with_context(|| format!("--stats printed no host phases:\n{stderr}"))?;
    for (key, name, _) in PHASES {
        let value = number_after(line, &format!(" {name}"))
            .with_context(|| format!("no `{name}` in `{line}`"))?;
        f.push(key, value);
    }
    Ok(())
}

pub fn halt(paths: &Paths, plan: &Plan, f: &mut Figures) -> Result<()> {
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
