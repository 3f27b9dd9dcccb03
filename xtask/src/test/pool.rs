//! Running many commands a few at a time: each guest test (and each doc
//! command) is its own process, started from one queue by a fixed number of
//! workers, with its stdout and stderr captured together and a time cap
//! (each worker sleeps until its process exits: no polling interval is added
//! to a test's time).
//!
//! One queue across all the suite's test executables keeps every worker busy
//! to the end, where running the executables one after another (as `cargo
//! test` does) leaves workers idle behind each one's slowest test.

use std::collections::VecDeque;
use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use faultline_tests::wait::wait_until;

/// One command to run.
pub struct Job {
    /// What the results call it.
    pub name: String,
    /// The command, with its arguments and environment; stdin, stdout and
    /// stderr are set by the pool.
    pub command: Command,
    /// Killed after this long.
    pub cap: Duration,
}

/// How a job ended.
pub struct Finished {
    /// The job's position in the list given to [`run_all`].
    pub index: usize,
    pub name: String,
    /// stdout and stderr, interleaved as written.
    pub output: String,
    /// The exit code; `None` if the process was killed by a signal, hit its
    /// cap or could not be started (see `error`).
    pub code: Option<i32>,
    /// It ran past its cap and was killed.
    pub timed_out: bool,
    /// It could not be started or waited for.
    pub error: Option<String>,
    pub elapsed: Duration,
}

/// How long a finished process's output may take to reach its end (a
/// process it left behind can hold the pipe open).
const DRAIN_GRACE: Duration = Duration::from_secs(10);

/// Runs `jobs`, `workers` at a time, in the given order, and calls `done`
/// with each as it finishes (on the calling thread, in the order they finish).
pub fn run_all(jobs: Vec<Job>, workers: usize, mut done: impl FnMut(Finished)) {
    let queue = Mutex::new(jobs.into_iter().enumerate().collect::<VecDeque<_>>());
    let (tx, rx) = mpsc::channel();
    thread::scope(|scope| {
        for _ in 0..workers.max(1) {
            let tx = tx.clone();
            let queue = &queue;
            scope.spawn(move || {
                loop {
                    // A poisoned lock means another worker panicked: stop too.
                    let Some((index, job)) = queue.lock().ok().and_then(|mut q| q.pop_front())
                    else {
                        break;
                    };
                    if tx.send(run_one(index, job)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        for finished in rx {
            done(finished);
        }
    });
}

/// Runs one job to its end or its cap.
fn run_one(index: usize, job: Job) -> Finished {
    let Job {
        name,
        mut command,
        cap,
    } = job;
    let started = Instant::now();
    let mut finished = Finished {
        index,
        name,
        output: String::new(),
        code: None,
        timed_out: false,
        error: None,
        elapsed: Duration::ZERO,
    };
    let spawned = std::io::pipe().and_then(|(reader, writer)| {
        command
            .stdin(Stdio::null())
            .stdout(writer.try_clone()?)
            .stderr(writer);
        let child = command.spawn();
        // The command holds the pipe's write ends until it is dropped.
        drop(command);
        Ok((reader, child?))
    });
    let (mut reader, mut child) = match spawned {
        Ok(started) => started,
        Err(err) => {
            finished.error = Some(format!("cannot start it: {err}"));
            return finished;
        }
    };
    let (out_tx, out_rx) = mpsc::channel();
    thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = reader.read_to_end(&mut bytes);
        let _ = out_tx.send(bytes);
    });
    match wait_until(&mut child, started + cap) {
        Ok(Some(status)) => finished.code = status.code(),
        Ok(None) => {
            // Best effort: it may have ended just now.
            let _ = child.kill();
            let _ = child.wait();
            finished.timed_out = true;
        }
        Err(err) => {
            finished.error = Some(format!("cannot wait for it: {err}"));
            let _ = child.kill();
        }
    }
    finished.elapsed = started.elapsed();
    if let Ok(bytes) = out_rx.recv_timeout(DRAIN_GRACE) {
        finished.output = String::from_utf8_lossy(&bytes).into_owned();
    }
    finished
}

#[cfg(test)]
mod tests {
    use std::process::Command;
    use std::time::Duration;

    use super::{Job, run_all};

    fn sh(name: &str, script: &str, cap: Duration) -> Job {
        let mut command = Command::new("sh");
        command.args(["-c", script]);
        Job {
            name: name.into(),
            command,
            cap,
        }
    }

    #[test]
    fn runs_every_job_and_captures_both_streams() {
        let long = Duration::from_secs(30);
        let jobs = vec![
            sh("a", "echo out; echo err >&2; exit 3", long),
            sh("b", "exit 0", long),
            sh("c", "exec sleep 30", Duration::from_millis(200)),
        ];
        let mut seen = Vec::new();
        run_all(jobs, 2, |f| seen.push(f));
        seen.sort_by_key(|f| f.index);
        assert_eq!(seen.len(), 3);
        assert_eq!(seen[0].code, Some(3));
        assert_eq!(seen[0].output, "out\nerr\n");
        assert_eq!((seen[1].name.as_str(), seen[1].code), ("b", Some(0)));
        assert!(seen[2].timed_out && seen[2].code.is_none());
    }

    #[test]
    fn a_missing_program_is_an_error_not_a_hang() {
        let job = Job {
            name: "x".into(),
            command: Command::new("/nonexistent/program"),
            cap: Duration::from_secs(5),
        };
        let mut seen = Vec::new();
        run_all(vec![job], 1, |f| seen.push(f));
        assert!(seen[0].error.is_some());
    }
}
