//! The console moves large buffers: one 8 MiB `write` from a guest program
//! arrives byte-exact on the host (PVM mode only: too slow when emulated); 1 MB of standard input goes through `cat`
//! byte-exact (many bytes per VM exit); writes of up to `CONSOLE_UNIT` bytes
//! from concurrent processes never mix.

use std::io::{Read, Write};
use std::process::Stdio;

use abi::syscall::CONSOLE_UNIT;

use faultline_tests::{RunOpts, command, is_exit_line, skip_heavy, still_works};

/// Byte `i` of `big-write`'s pattern.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| ((i + i / 4093) % 251) as u8).collect()
}

/// Runs `cmdline` feeding it `input` on stdin; returns (status, stdout, stderr).
fn run_bytes(cmdline: &str, input: Vec<u8>) -> (Option<i32>, Vec<u8>, String) {
    let mut child = command(cmdline, &RunOpts::new().timeout(120))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("faultline starts");
    let mut stdin = child.stdin.take().expect("piped stdin");
    let feeder = std::thread::spawn(move || {
        // The guest may stop reading early; a broken pipe is its business.
        let _ = stdin.write_all(&input);
    });
    let mut err = child.stderr.take().expect("piped stderr");
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let mut out = Vec::new();
    child
        .stdout
        .take()
        .expect("piped stdout")
        .read_to_end(&mut out)
        .expect("stdout is readable");
    let status = child.wait().expect("faultline ends");
    feeder.join().expect("the feeder thread");
    (status.code(), out, err_reader.join().unwrap_or_default())
}

#[test]
fn an_8_mib_write_arrives_byte_exact() {
    // Too slow where the native mode is emulated (8 MiB of user pages).
    if skip_heavy() {
        return;
    }
    let (status, out, err) = run_bytes("big-write", Vec::new());
    assert_eq!(status, Some(0), "stderr:\n{err}");
    let data = pattern(8 << 20);
    assert_eq!(out.len(), data.len() + "big-write: exit(0)\n".len());
    assert!(out[..data.len()] == data[..], "the 8 MiB differ");
    assert_eq!(&out[data.len()..], b"big-write: exit(0)\n");
    still_works();
}

#[test]
fn a_megabyte_of_input_goes_through_cat_byte_exact() {
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let input: Vec<u8> = (0..1_000_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    let (status, out, err) = run_bytes("cat", input.clone());
    assert_eq!(status, Some(0), "stderr:\n{err}");
    assert_eq!(out.len(), input.len() + "cat: exit(0)\n".len());
    assert!(out[..input.len()] == input[..], "the bytes differ");
    assert_eq!(&out[input.len()..], b"cat: exit(0)\n");
    still_works();
}

#[test]
fn empty_input_is_end_of_input() {
    let (status, out, err) = run_bytes("cat", Vec::new());
    assert_eq!(status, Some(0), "stderr:\n{err}");
    assert_eq!(out, b"cat: exit(0)\n");
}

#[test]
fn unit_sized_writes_never_mix() {
    let (status, out, err) = run_bytes("write-units", Vec::new());
    assert_eq!(status, Some(0), "stderr:\n{err}");
    let text = String::from_utf8(out).expect("ASCII output");
    let mut counts = [0; 3];
    for line in text.lines().filter(|l| !is_exit_line(l)) {
        let first = line.as_bytes().first().copied().unwrap_or(b'?');
        assert!(
            line.len() == CONSOLE_UNIT - 1
                && line.bytes().all(|b| b == first)
                && (b'a'..=b'c').contains(&first),
            "a mixed or broken line of {} bytes: {:?}...",
            line.len(),
            &line[..line.len().min(40)]
        );
        counts[usize::from(first - b'a')] += 1;
    }
    assert_eq!(counts, [8, 8, 8], "{text:.200}");
}

#[test]
fn an_exit_line_held_back_reaches_the_console_before_a_timeout() {
    // The kernel holds exit lines (and short user output) back until its
    // next console flush (kernel output, console input, the idle loop, a
    // timer tick, power-off), and the VMM writes out what it holds when a
    // timeout stops the run: a guest that only spins afterwards must still
    // show them. The child has exited within 20 ms even with another VM
    // running beside it, and the guest spins until the timeout, so the
    // first try is short; retried with timeouts that double on a machine
    // too loaded for the child to exit in time, so that a miss costs little.
    for millis in [50, 100, 200, 400, 1_000, 3_000, 12_000] {
        let opts = RunOpts::new().timeout_exact(std::time::Duration::from_millis(millis));
        let outcome = faultline_tests::run("exit-spin", &opts);
        assert_eq!(outcome.status, 251, "stderr:\n{}", outcome.stderr);
        if outcome.lines() == ["quiet-child: exit(7)"] {
            return;
        }
        assert!(outcome.lines().is_empty(), "console:\n{}", outcome.stdout);
    }
    panic!("the child's exit line never reached the console");
}
