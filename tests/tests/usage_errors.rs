//! Usage errors on faultline's command line: each is refused before anything
//! boots, on one stderr line starting `faultline: error:`, with status 252 —
//! an unknown option, an option that would do nothing, an output file whose
//! directory is missing, a `--put` that is not a regular file — and a good
//! command still runs afterwards.

use faultline_tests::{RunOpts, command_args_with, run_args, still_works};

/// Runs `echo hi` with `extra` options put before the `--` and checks the
/// refusal: status 252, nothing on stdout, one line on stderr starting `want`.
fn refused(extra: &[&str], want: &str) {
    let out = run_args(&command_args_with("echo hi", &RunOpts::new(), extra));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(252), "{extra:?}: {err}");
    assert!(out.stdout.is_empty(), "{extra:?}: nothing may boot");
    assert!(
        err.starts_with(want),
        "{extra:?}: expected `{want}`, got:\n{err}"
    );
}

#[test]
fn an_unknown_option_is_a_usage_error() {
    refused(
        &["--bogus"],
        "faultline: error: unexpected argument '--bogus'",
    );
    refused(&["--mem", "12X"], "faultline: error: --mem: bad size");
    still_works();
}

#[test]
fn an_option_that_would_do_nothing_is_refused() {
    refused(
        &["--sample-hz", "100"],
        "faultline: error: --sample-hz sets the sampling rate of --flamegraph",
    );
    still_works();
}

#[test]
fn output_files_are_checked_before_the_run() {
    let missing = "/nonexistent-faultline-dir/out";
    refused(&["--trace", missing], "faultline: error: --trace: ");
    refused(
        &["--flamegraph", missing],
        "faultline: error: --flamegraph: ",
    );
    refused(
        &["--get", &format!("sample.txt:{missing}")],
        "faultline: error: --get sample.txt: ",
    );
    still_works();
}

#[test]
fn a_put_file_that_is_not_a_regular_file_is_refused() {
    // /dev/zero never ends: read whole it would exhaust the host's memory.
    refused(
        &["--put", "/dev/zero:zero"],
        "faultline: error: --put: reading /dev/zero: not a regular file",
    );
    refused(
        &["--put", "/tmp:tmp"],
        "faultline: error: --put: reading /tmp: not a regular file",
    );
    still_works();
}
