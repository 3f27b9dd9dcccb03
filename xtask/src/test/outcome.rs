//! What one guest test's process says about it: passed, failed, or skipped
//! and why.
//!
//! Each guest test runs alone in a libtest executable
//! (`EXE --exact NAME --nocapture`). libtest's `test result:` line says
//! whether it passed, failed or was ignored (`#[ignore]`); a test that
//! skipped itself passed for libtest but printed the skip marker
//! (`faultline-tests: skip: REASON`, from `tests/src/skip.rs`).

use super::pool::Finished;
use super::tally::Tally;

/// The skip marker's prefix; keep in step with `tests/src/skip.rs`.
pub const SKIP_MARKER: &str = "faultline-tests: skip:";

/// A guest test's result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    /// Failed; why, when it is not in the test's own output.
    Fail(Option<String>),
    /// Did not run here, and why.
    Skip(String),
}

/// Reads the verdict of `run`, the process of the test `name`.
pub fn verdict(run: &Finished) -> Verdict {
    if let Some(err) = &run.error {
        return Verdict::Fail(Some(err.clone()));
    }
    if run.timed_out {
        return Verdict::Fail(Some(format!(
            "killed after {:.0} s",
            run.elapsed.as_secs_f64()
        )));
    }
    let tally = run
        .output
        .lines()
        .find_map(Tally::from_result_line)
        .unwrap_or_default();
    if run.code != Some(0) || tally.failed > 0 {
        let why = match run.code {
            Some(0 | 101) => None,
            Some(code) => Some(format!("the test process exited with status {code}")),
            None => Some("the test process was killed by a signal".into()),
        };
        return Verdict::Fail(why);
    }
    if tally.skipped > 0 {
        return Verdict::Skip(ignored_reason(&run.output, &run.name));
    }
    if tally.passed == 0 {
        return Verdict::Fail(Some(format!(
            "the test did not run (no test is named `{}` any more?)",
            run.name
        )));
    }
    match skip_reason(&run.output) {
        Some(reason) => Verdict::Skip(reason),
        None => Verdict::Pass,
    }
}

/// The reason of the first skip marker in `output`.
fn skip_reason(output: &str) -> Option<String> {
    output.lines().find_map(|line| {
        let at = line.find(SKIP_MARKER)?;
        let reason = line[at + SKIP_MARKER.len()..].trim();
        Some(if reason.is_empty() { "skipped" } else { reason }.to_owned())
    })
}

/// The reason libtest gives for an ignored test (`test NAME ... ignored, WHY`).
fn ignored_reason(output: &str, name: &str) -> String {
    let prefix = format!("test {name} ... ignored");
    output
        .lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .and_then(|rest| rest.strip_prefix(", "))
        .map_or_else(
            || "ignored".to_owned(),
            |why| format!("ignored: {}", why.trim()),
        )
}

/// The test's own output without libtest's framing (the `running 1 test`,
/// `test NAME ...`, `failures:` and `test result:` lines), for a failure report.
pub fn body(output: &str, name: &str) -> String {
    let header = format!("test {name} ... ");
    let listed = format!("    {name}");
    let kept: Vec<&str> = output
        .lines()
        .filter_map(|line| {
            let line = line.strip_prefix(&header).unwrap_or(line);
            let framing = line == "running 1 test"
                || line == "FAILED"
                || line == "ok"
                || line == "failures:"
                || line == listed
                || line.starts_with("test result: ");
            (!framing).then_some(line)
        })
        .collect();
    let text = kept.join("\n");
    let text = text.trim_matches('\n');
    format!("{text}\n")
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{Finished, Verdict, body, verdict};

    fn finished(output: &str, code: Option<i32>) -> Finished {
        Finished {
            index: 0,
            name: "vm::page_linear".into(),
            output: output.into(),
            code,
            timed_out: false,
            error: None,
            elapsed: Duration::from_secs(1),
        }
    }

    const PASSED: &str = "\nrunning 1 test\ntest vm::page_linear ... ok\n\ntest result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 51 filtered out; finished in 0.10s\n";

    #[test]
    fn passes_fails_and_skips_are_told_apart() {
        assert_eq!(verdict(&finished(PASSED, Some(0))), Verdict::Pass);
        let skipped = "\nrunning 1 test\ntest vm::page_linear ... faultline-tests: skip: native CPU mode is emulated on this host\nok\n\ntest result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 51 filtered out; finished in 0.01s\n";
        assert_eq!(
            verdict(&finished(skipped, Some(0))),
            Verdict::Skip("native CPU mode is emulated on this host".into())
        );
        let failed = "\nrunning 1 test\ntest vm::page_linear ... FAILED\n\nfailures:\n\nfailures:\n    vm::page_linear\n\ntest result: FAILED. 0 passed; 1 failed; 0 ignored; 0 measured; 51 filtered out; finished in 0.14s\nthread 'vm::page_linear' panicked at tests/tests/vm.rs:1:1:\nboom\n";
        assert_eq!(verdict(&finished(failed, Some(101))), Verdict::Fail(None));
        assert_eq!(
            body(failed, "vm::page_linear"),
            "thread 'vm::page_linear' panicked at tests/tests/vm.rs:1:1:\nboom\n"
        );
        let ignored = "\nrunning 1 test\ntest vm::page_linear ... ignored, too slow\n\ntest result: ok. 0 passed; 0 failed; 1 ignored; 0 measured; 51 filtered out; finished in 0.00s\n";
        assert_eq!(
            verdict(&finished(ignored, Some(0))),
            Verdict::Skip("ignored: too slow".into())
        );
    }

    #[test]
    fn a_test_that_did_not_run_or_crashed_fails() {
        let none = "\nrunning 0 tests\n\ntest result: ok. 0 passed; 0 failed; 0 ignored; 0 measured; 52 filtered out; finished in 0.00s\n";
        assert!(matches!(
            verdict(&finished(none, Some(0))),
            Verdict::Fail(Some(_))
        ));
        assert!(matches!(
            verdict(&finished("", None)),
            Verdict::Fail(Some(_))
        ));
        // A pass line but a failing status (the process crashed on the way out).
        assert!(matches!(
            verdict(&finished(PASSED, Some(134))),
            Verdict::Fail(Some(_))
        ));
        let mut late = finished(PASSED, None);
        late.timed_out = true;
        assert!(matches!(verdict(&late), Verdict::Fail(Some(_))));
    }
}
