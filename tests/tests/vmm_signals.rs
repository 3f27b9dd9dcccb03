//! SIGINT, SIGTERM and SIGHUP sent to a running `faultline` stop the VM: the
//! VMM exits with 128 + the signal number, says so on stderr, and leaves no
//! temporary file behind (TMPDIR points at a test-private directory). The
//! guest is stopped while busy (`spin`) and while it waits for console input
//! (`cat` on an open, silent pipe).

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use faultline_tests::{RunOpts, TempDir, command, still_works};

/// How long a test waits for the guest to show it is running.
const STARTUP: Duration = Duration::from_secs(60);

/// Starts `cmdline` with piped streams and TMPDIR in `tmp`.
fn start(cmdline: &str, tmp: &TempDir) -> Child {
    command(cmdline, &RunOpts::new().timeout(120))
        .env("TMPDIR", tmp.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("faultline starts")
}

/// Waits (on a thread, with a deadline) for the first line of `child`'s
/// stdout and returns it.
fn first_line(child: &mut Child) -> String {
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        let _ = reader.read_line(&mut line);
        let _ = tx.send(line);
        // Keep draining so the VMM never blocks on a full pipe.
        let _ = std::io::copy(&mut reader, &mut std::io::sink());
    });
    rx.recv_timeout(STARTUP)
        .expect("the guest did not start in time")
}

/// Sends `sig` to `child`, waits for it, and checks its status, its last
/// message and that TMPDIR is empty.
fn stop_and_check(mut child: Child, sig: i32, name: &str, tmp: &TempDir) {
    let pid = i32::try_from(child.id()).expect("a pid");
    // SAFETY: kill(2) on the pid of a child this test started and has not
    // reaped yet, so the pid cannot name another process.
    assert_eq!(unsafe { libc::kill(pid, sig) }, 0);
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .expect("piped stderr")
        .read_to_string(&mut stderr)
        .expect("stderr is readable");
    let status = child.wait().expect("faultline ends");
    assert_eq!(status.code(), Some(128 + sig), "{name}: stderr:\n{stderr}");
    assert!(
        stderr.ends_with(&format!("faultline: stopped by {name}\n")),
        "{name}: stderr:\n{stderr}"
    );
    let left: Vec<_> = fs::read_dir(tmp.path()).unwrap().collect();
    assert!(left.is_empty(), "{name}: left behind in TMPDIR: {left:?}");
}

const SIGNALS: [(i32, &str); 3] = [
    (libc::SIGINT, "SIGINT"),
    (libc::SIGTERM, "SIGTERM"),
    (libc::SIGHUP, "SIGHUP"),
];

#[test]
fn signals_stop_a_busy_guest() {
    for (sig, name) in SIGNALS {
        let tmp = TempDir::new("sig-spin");
        let mut child = start("spin", &tmp);
        assert_eq!(first_line(&mut child), "spin: running\n");
        stop_and_check(child, sig, name, &tmp);
    }
    still_works();
}

#[test]
fn signals_stop_a_guest_waiting_for_input() {
    for (sig, name) in SIGNALS {
        let tmp = TempDir::new("sig-cat");
        let mut child = start("cat", &tmp);
        let mut stdin = child.stdin.take().expect("piped stdin");
        stdin.write_all(b"ping\n").expect("write to the guest");
        assert_eq!(first_line(&mut child), "ping\n");
        // `cat` now waits for more input on a pipe that stays open.
        stop_and_check(child, sig, name, &tmp);
        drop(stdin);
    }
    still_works();
}
