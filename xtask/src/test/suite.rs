//! One run of the guest suite in one CPU mode: every selected test in its
//! own process, `workers` at a time, slowest first ([`run`]); and the same
//! run, quiet, for `cargo xtask bench` ([`time`]), so that the bench's
//! suite rows measure exactly what `cargo xtask test` runs.

use std::time::{Duration, Instant};

use anyhow::{Result, bail};

use super::filter::NameFilter;
use super::guest::{self, GuestTest};
use super::outcome::{self, Verdict};
use super::pool::{self, Finished, Job};
use super::times::Times;
use crate::paths::Paths;

/// The longest one guest test may run (its VMs have their own, shorter caps).
const GUEST_CAP: Duration = Duration::from_secs(600);

/// Runs `tests` in `mode`, `workers` at a time, slowest first as `times`
/// last saw them (and records each one's time there), calling `each` with
/// every test as it finishes and its verdict; returns the wall time of the
/// whole run.
pub fn run(
    paths: &Paths,
    tests: &[GuestTest],
    mode: &str,
    workers: usize,
    times: &mut Times,
    mut each: impl FnMut(&Finished, Verdict),
) -> Duration {
    let started = Instant::now();
    let key = |t: &GuestTest| format!("{mode} {}", t.name);
    let mut order: Vec<&GuestTest> = tests.iter().collect();
    times.slowest_first(&mut order, |t| key(t));
    let jobs = order
        .iter()
        .map(|t| Job {
            name: t.name.clone(),
            command: guest::command(paths, t, mode, false),
            cap: GUEST_CAP,
        })
        .collect();
    pool::run_all(jobs, workers, |finished| {
        times.set(&key(order[finished.index]), finished.elapsed);
        let verdict = outcome::verdict(&finished);
        each(&finished, verdict);
    });
    started.elapsed()
}

/// Builds the guest suite and runs the tests whose name contains `filter`
/// (all of them without one) in `mode` as `cargo xtask test --cpu-mode
/// MODE` does, one per CPU at a time, printing nothing: the wall time of
/// the run and whether every test passed or was skipped. Fails if the
/// suite cannot be built or listed, or `filter` selects no test.
pub fn time(paths: &Paths, mode: &str, filter: Option<&str>) -> Result<(Duration, bool)> {
    let filter = filter.and_then(|f| NameFilter::new(&[f.to_owned()]));
    let tests: Vec<GuestTest> = guest::build_and_list(paths)?
        .into_iter()
        .filter(|t| filter.as_ref().is_none_or(|f| f.matches(&t.name)))
        .collect();
    if tests.is_empty() {
        bail!("no guest test selected");
    }
    let mut times = Times::load(&super::times_path(paths));
    let mut passed = true;
    let elapsed = run(
        paths,
        &tests,
        mode,
        super::default_jobs(),
        &mut times,
        |_, verdict| passed &= !matches!(verdict, Verdict::Fail(_)),
    );
    Ok((elapsed, passed))
}
