//! `--kernel` must be a faultline kernel: a user program, a file that is not
//! ELF and an empty file are refused before anything boots, with status 252
//! and `faultline: error: --kernel PATH: ...`; the real kernel still boots
//! afterwards.

use faultline_tests::{RunOpts, TempDir, command_args, run_args, still_works, user_dir};
use std::fs;
use std::path::Path;

/// Runs `echo hi` with `--kernel kernel` and checks the refusal.
fn refused(kernel: &Path, reason: &str) {
    let mut args = command_args("echo hi", &RunOpts::new());
    // Replace the suite's --kernel with `kernel`.
    let at = args.iter().position(|a| a == "--kernel").expect("--kernel");
    args[at + 1] = kernel.to_string_lossy().into_owned();
    let out = run_args(&args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(252), "{err}");
    assert!(out.stdout.is_empty(), "nothing may boot");
    let want = format!("faultline: error: --kernel {}: {reason}", kernel.display());
    assert!(err.starts_with(&want), "expected `{want}`, got:\n{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn a_user_program_is_not_a_kernel() {
    refused(&user_dir().join("echo"), "not a faultline kernel");
    let c = user_dir().join("c-hello"); // built only where gcc is
    if c.exists() {
        refused(&c, "not a faultline kernel");
    }
    still_works();
}

#[test]
fn a_file_that_is_not_elf_is_not_a_kernel() {
    let dir = TempDir::new("kernel-check");
    let script = dir.path().join("script");
    fs::write(&script, "#!/bin/sh\necho hi\n").unwrap();
    refused(&script, "not an ELF file");
    let empty = dir.path().join("empty");
    fs::write(&empty, "").unwrap();
    refused(&empty, "empty file");
    still_works();
}
