//! Judging a run the way Pintos `.ck` files do: the console lines (optionally
//! without exit lines) and the exit status must match one accepted result,
//! and a mismatch is reported as a line diff with the command that
//! reproduces it.

use std::fmt::Write as _;

use crate::opts::RunOpts;
use crate::run::{Outcome, reproduction, run, showing};

/// The status of a program killed by the kernel (`exit(-1)`), as the VMM reports it.
pub const KILLED: i32 = 255;

/// Splits console output into lines; a trailing newline ends the last line.
pub fn split_lines(text: &str) -> Vec<&str> {
    let body = text.strip_suffix('\n').unwrap_or(text);
    if text.is_empty() {
        Vec::new()
    } else {
        body.split('\n').collect()
    }
}

/// Whether `line` is a kernel exit line, `NAME: exit(STATUS)` (Pintos
/// `IGNORE_EXIT_CODES` pattern `^[a-zA-Z0-9-_]+: exit\(-?\d+\)$`).
pub fn is_exit_line(line: &str) -> bool {
    let Some((name, rest)) = line.split_once(": exit(") else {
        return false;
    };
    let Some(number) = rest.strip_suffix(')') else {
        return false;
    };
    let digits = number.strip_prefix('-').unwrap_or(number);
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        && !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
}

/// How the console output is filtered before it is compared.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Filter {
    /// Compare every line.
    #[default]
    None,
    /// Drop `NAME: exit(STATUS)` lines on both sides (Pintos `IGNORE_EXIT_CODES`).
    IgnoreExitCodes,
    /// Also drop the kernel's `faultline: out of memory: killing ...` lines
    /// (for workloads where how many processes the killer picks may vary).
    IgnoreExitsAndOomKills,
}

/// Whether `line` is the kernel's out-of-memory kill line.
pub fn is_oom_kill_line(line: &str) -> bool {
    line.starts_with("faultline: out of memory: killing ")
}

impl Filter {
    fn apply<'a>(self, lines: &[&'a str]) -> Vec<&'a str> {
        match self {
            Filter::None => lines.to_vec(),
            Filter::IgnoreExitCodes => lines.iter().copied().filter(|l| !is_exit_line(l)).collect(),
            Filter::IgnoreExitsAndOomKills => lines
                .iter()
                .copied()
                .filter(|l| !is_exit_line(l) && !is_oom_kill_line(l))
                .collect(),
        }
    }
}

/// One accepted result: the console lines and the VMM's exit status.
#[derive(Clone, Debug)]
pub struct Expected {
    /// The console lines, in order.
    pub lines: Vec<String>,
    /// The VMM's exit status.
    pub status: i32,
}

impl Expected {
    /// The result of `lines` on the console and exit `status`.
    pub fn new<S: AsRef<str>>(lines: &[S], status: i32) -> Expected {
        Expected {
            lines: lines.iter().map(|l| l.as_ref().to_owned()).collect(),
            status,
        }
    }
}

/// Runs `cmdline` and requires exactly `expected` lines and exit `status`.
/// Panics (at the caller) with a report and the reproduction otherwise.
#[track_caller]
pub fn expect<S: AsRef<str>>(
    cmdline: &str,
    opts: &RunOpts,
    expected: &[S],
    status: i32,
) -> Outcome {
    expect_one_of(
        cmdline,
        opts,
        &[Expected::new(expected, status)],
        Filter::None,
    )
}

/// Runs `cmdline` and requires that the output, filtered by `filter`, matches
/// one of the accepted results (Pintos `check_expected` with several outputs).
/// Panics with a readable diff against each alternative otherwise.
#[track_caller]
pub fn expect_one_of(
    cmdline: &str,
    opts: &RunOpts,
    accepted: &[Expected],
    filter: Filter,
) -> Outcome {
    let outcome = run(cmdline, opts);
    match judge(&outcome, accepted, filter) {
        Ok(()) if showing() => println!("--- judged: the output and exit status are as expected"),
        Ok(()) => {}
        Err(report) => panic!(
            "`{cmdline}` failed:\n{report}{}",
            reproduction(cmdline, opts)
        ),
    }
    outcome
}

/// Compares an outcome with the accepted results; the error is a report.
pub fn judge(outcome: &Outcome, accepted: &[Expected], filter: Filter) -> Result<(), String> {
    let actual = filter.apply(&outcome.lines());
    for alt in accepted {
        let want: Vec<&str> = alt.lines.iter().map(String::as_str).collect();
        if filter.apply(&want) == actual && alt.status == outcome.status {
            return Ok(());
        }
    }
    let mut report = String::new();
    for (i, alt) in accepted.iter().enumerate() {
        let want: Vec<&str> = alt.lines.iter().map(String::as_str).collect();
        let want = filter.apply(&want);
        if accepted.len() > 1 {
            let _ = writeln!(
                report,
                "--- accepted output {} of {}:",
                i + 1,
                accepted.len()
            );
        }
        if want == actual {
            let _ = writeln!(report, "output matches");
        } else {
            let _ = writeln!(report, "output differs (- expected, + actual):");
            report.push_str(&diff(&want, &actual));
        }
        if alt.status != outcome.status {
            let _ = writeln!(
                report,
                "exit status {}, expected {}",
                outcome.status, alt.status
            );
        }
    }
    if !outcome.stderr.trim().is_empty() {
        let _ = writeln!(report, "--- stderr:\n{}", outcome.stderr.trim_end());
    }
    Err(report)
}

/// A line diff of `want` against `got` (longest common subsequence).
pub fn diff(want: &[&str], got: &[&str]) -> String {
    let (n, m) = (want.len(), got.len());
    // lcs[i][j] = length of the LCS of want[i..] and got[j..].
    let mut lcs = vec![vec![0usize; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if want[i] == got[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let mut out = String::new();
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        if i < n && j < m && want[i] == got[j] {
            let _ = writeln!(out, "  {}", want[i]);
            i += 1;
            j += 1;
        } else if i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1]) {
            let _ = writeln!(out, "- {}", want[i]);
            i += 1;
        } else {
            let _ = writeln!(out, "+ {}", got[j]);
            j += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(stdout: &str, status: i32) -> Outcome {
        Outcome {
            stdout: stdout.into(),
            stderr: String::new(),
            status,
        }
    }

    #[test]
    fn lines_split_like_a_console() {
        assert_eq!(split_lines(""), Vec::<&str>::new());
        assert_eq!(split_lines("a\nb\n"), vec!["a", "b"]);
        assert_eq!(split_lines("a\n\nb"), vec!["a", "", "b"]);
        assert_eq!(split_lines("\n"), vec![""]);
    }

    #[test]
    fn exit_lines_are_recognized() {
        assert!(is_exit_line("child-simple: exit(81)"));
        assert!(is_exit_line("c_12: exit(-1)"));
        assert!(!is_exit_line("(args) exit(0)"));
        assert!(!is_exit_line("child: exit()"));
        assert!(!is_exit_line("child: exit(1) "));
        assert!(!is_exit_line(": exit(1)"));
    }

    #[test]
    fn judging_needs_lines_and_status() {
        let ok = Expected::new(&["(t) begin", "t: exit(0)"], 0);
        assert!(
            judge(
                &outcome("(t) begin\nt: exit(0)\n", 0),
                std::slice::from_ref(&ok),
                Filter::None
            )
            .is_ok()
        );
        let err = judge(
            &outcome("(t) begin\nt: exit(1)\n", 1),
            std::slice::from_ref(&ok),
            Filter::None,
        )
        .unwrap_err();
        assert!(
            err.contains("- t: exit(0)") && err.contains("+ t: exit(1)"),
            "{err}"
        );
        assert!(err.contains("exit status 1, expected 0"), "{err}");
        let killed = Expected::new(&["(t) begin", "t: exit(-1)"], KILLED);
        assert!(
            judge(
                &outcome("(t) begin\nt: exit(-1)\n", 255),
                &[ok, killed],
                Filter::None
            )
            .is_ok()
        );
    }

    #[test]
    fn exit_codes_can_be_ignored() {
        let want = Expected::new(&["(t) begin", "(t) end"], 0);
        let got = outcome(
            "(t) begin\nc1: exit(3)\nd6: exit(-1)\n(t) end\nt: exit(0)\n",
            0,
        );
        assert!(judge(&got, std::slice::from_ref(&want), Filter::IgnoreExitCodes).is_ok());
        assert!(judge(&got, &[want], Filter::None).is_err());
    }

    #[test]
    fn diff_marks_missing_and_extra_lines() {
        let d = diff(&["a", "b", "c"], &["a", "x", "c"]);
        assert_eq!(d, "  a\n- b\n+ x\n  c\n");
    }
}
