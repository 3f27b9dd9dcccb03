//! Skipping a test that cannot or should not run here, so that it is reported
//! as skipped, never as passed.
//!
//! libtest has no "skipped" outcome: a test that skips returns early (libtest
//! says `ok`) after printing the marker line [`SKIP_MARKER`]` REASON` on its
//! stdout. `cargo xtask test` runs every guest test with `--nocapture`, reads
//! the marker and reports `skip NAME (REASON)`. Under a plain `cargo test` or
//! nextest the marker stays in the test's captured output and the test shows
//! as passed; run the suite with `cargo xtask test` to see skips.

use crate::host::native_is_emulated;

/// The line prefix that marks a skipped test (`cargo xtask test` parses it;
/// keep `xtask/src/test/outcome.rs` in step).
pub const SKIP_MARKER: &str = "faultline-tests: skip:";

/// Why the heavy tests skip in the emulated native mode.
pub const EMULATED: &str = "native CPU mode is emulated on this host";

/// Reports the running test as skipped for `reason`; the test must return
/// right after.
pub fn skip(reason: &str) {
    println!("{SKIP_MARKER} {reason}");
}

/// For the heavy tests (eviction, swap, fork under pressure: minutes of
/// emulated ring-0 work): skips the test and returns true when the kernel
/// runs in the native mode on a PVM host. Use as
/// `if skip_heavy() { return; }`. On VT-x/AMD-V hosts, and in the PVM guest
/// mode, returns false and the test runs.
pub fn skip_heavy() -> bool {
    let skipping = native_is_emulated();
    if skipping {
        skip(EMULATED);
    }
    skipping
}
