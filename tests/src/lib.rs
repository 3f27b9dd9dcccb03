//! Shared helpers for the integration tests: boot one VM with a command line
//! and judge its console output and exit status, the way Pintos `.ck` files
//! judge a test's output.
//!
//! The suite runs under `cargo xtask test`, which builds everything, runs
//! each test in its own process and passes in the environment the paths of
//! the build (`FAULTLINE_BIN`, `FAULTLINE_KERNEL`, `FAULTLINE_USER_DIR`,
//! `FAULTLINE_DATA_DIR`; defaults in [`paths`]), the CPU mode
//! (`FAULTLINE_CPU_MODE`, [`host`]) and the test's name
//! (`FAULTLINE_TEST_NAME`, for the reproduction command a failure prints).
//! A test that cannot run here says so with [`skip`](skip::skip) and returns.
//!
//! - [`paths`]: where the VMM, kernel, user programs and test data are;
//! - [`host`]: the CPU mode and what this host makes of it;
//! - [`skip`]: reporting a test as skipped;
//! - [`opts`]: the options of a run;
//! - [`run`]: the command line of a run, and the run;
//! - [`judge`]: comparing the output with the accepted results;
//! - [`tempdir`]: a test's temporary files, kept when it fails;
//! - [`health`]: proof that the system still works after a bad-input test;
//! - [`wait`]: waiting for a child process, with a deadline.

pub mod health;
pub mod host;
pub mod judge;
pub mod opts;
pub mod paths;
pub mod run;
pub mod skip;
pub mod tempdir;
pub mod wait;

pub use health::still_works;
pub use host::{CpuMode, cpu_mode, native_is_emulated, requested_mode};
pub use judge::{
    Expected, Filter, KILLED, diff, expect, expect_one_of, is_exit_line, is_oom_kill_line, judge,
    split_lines,
};
pub use opts::{DEFAULT_TIMEOUT, RunOpts};
pub use paths::{data_file, floor_guest, kernel, user_dir, vmm_bin};
pub use run::{Outcome, command, command_args, command_args_with, command_line, run, run_args};
pub use skip::{skip, skip_heavy};
pub use tempdir::TempDir;
