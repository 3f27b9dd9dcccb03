//! The VMM never fails because of its own output: with standard error or
//! standard output a closed pipe or a full device (`/dev/full`), the guest
//! still runs to its end, the VMM exits with the guest's status, and no
//! temporary image is left behind.

use std::fs::{self, File};
use std::process::{Command, Stdio};

use faultline_tests::{RunOpts, TempDir, command, still_works};

/// Where a stream goes.
#[derive(Clone, Copy, Debug)]
enum Sink {
    /// A pipe whose reading end is already closed (EPIPE).
    ClosedPipe,
    /// `/dev/full` (ENOSPC).
    Full,
    /// A pipe the test reads.
    Piped,
}

fn stdio(sink: Sink) -> Stdio {
    match sink {
        Sink::ClosedPipe => {
            let (reader, writer) = std::io::pipe().expect("a pipe");
            drop(reader);
            writer.into()
        }
        Sink::Full => File::options()
            .write(true)
            .open("/dev/full")
            .expect("/dev/full")
            .into(),
        Sink::Piped => Stdio::piped(),
    }
}

/// Runs `cmdline` with the given stdout and stderr and TMPDIR in a fresh
/// directory, not quiet and with `--stats` (so the VMM writes to stderr both
/// before and after the run); returns the exit status and what a piped
/// stdout got, after checking that the directory is empty again.
fn run_with(cmdline: &str, out: Sink, err: Sink) -> (Option<i32>, String) {
    let tmp = TempDir::new("streams");
    let base: Command = command(cmdline, &RunOpts::new());
    let mut cmd = Command::new(base.get_program());
    for arg in base.get_args() {
        if arg == "--" {
            cmd.arg("--stats");
        }
        if arg != "--quiet" {
            cmd.arg(arg);
        }
    }
    cmd.env("TMPDIR", tmp.path())
        .stdin(Stdio::null())
        .stdout(stdio(out))
        .stderr(stdio(err));
    let output = cmd.output().expect("faultline runs");
    let left: Vec<_> = fs::read_dir(tmp.path()).unwrap().collect();
    assert!(left.is_empty(), "left behind in TMPDIR: {left:?}");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

#[test]
fn closed_stderr_keeps_the_guest_status() {
    let (status, out) = run_with("exit", Sink::Piped, Sink::ClosedPipe);
    assert_eq!(status, Some(57));
    assert_eq!(out, "(exit) begin\nexit: exit(57)\n");
    still_works();
}

#[test]
fn full_stderr_keeps_the_guest_status() {
    let (status, out) = run_with("exit", Sink::Piped, Sink::Full);
    assert_eq!(status, Some(57));
    assert_eq!(out, "(exit) begin\nexit: exit(57)\n");
    still_works();
}

#[test]
fn closed_stdout_keeps_the_guest_status() {
    let (status, _) = run_with("exit", Sink::ClosedPipe, Sink::Piped);
    assert_eq!(status, Some(57));
    // More output than a pipe holds (96 KiB from three processes), to nobody.
    let (status, _) = run_with("write-units", Sink::ClosedPipe, Sink::Piped);
    assert_eq!(status, Some(0));
    let (status, _) = run_with("echo to nobody", Sink::Full, Sink::Full);
    assert_eq!(status, Some(0));
    still_works();
}

#[test]
fn both_closed_keep_the_guest_status() {
    let (status, _) = run_with("exit", Sink::ClosedPipe, Sink::ClosedPipe);
    assert_eq!(status, Some(57));
    still_works();
}
