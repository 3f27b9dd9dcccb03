//! Shared helpers for the integration tests: boot one VM with a command line
//! and judge its console output and exit status, the way Pintos `.ck` files
//! judge a test's output.
//!
//! The suite runs under `cargo xtask test`, which builds everything and passes
//! the paths in the environment: `FAULTLINE_BIN` (the VMM), `FAULTLINE_KERNEL`,
//! `FAULTLINE_USER_DIR` (the guest programs), optionally `FAULTLINE_DATA_DIR`
//! (test data such as `sample.txt`) and `FAULTLINE_CPU_MODE` (`--cpu-mode`).

use std::fmt::Write as _;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

/// The VM's wall-clock limit in seconds, unless a test asks for another.
pub const DEFAULT_TIMEOUT: u64 = 60;

/// The status of a program killed by the kernel (`exit(-1)`), as the VMM reports it.
pub const KILLED: i32 = 255;

/// Extra time the harness grants the VMM beyond its own `--timeout` before
/// killing it from the outside.
const GRACE: Duration = Duration::from_secs(30);

/// Options of one VM run beyond the defaults.
#[derive(Clone, Debug)]
pub struct RunOpts {
    /// `--mem`.
    pub mem: Option<String>,
    /// `--user-mem`.
    pub user_mem: Option<String>,
    /// `--put` arguments (`HOST[:NAME]`).
    pub puts: Vec<String>,
    /// `--get` arguments (`NAME[:HOST]`).
    pub gets: Vec<String>,
    /// `--disk`.
    pub disk: Option<PathBuf>,
    /// `--swap`.
    pub swap: Option<String>,
    /// `--timeout` in seconds.
    pub timeout: u64,
}

impl Default for RunOpts {
    fn default() -> Self {
        RunOpts {
            mem: None,
            user_mem: None,
            puts: Vec::new(),
            gets: Vec::new(),
            disk: None,
            swap: None,
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

impl RunOpts {
    /// Every option at its default.
    pub fn new() -> RunOpts {
        RunOpts::default()
    }

    /// Puts `sample.txt` into the guest file system.
    pub fn sample(self) -> RunOpts {
        let path = data_file("sample.txt");
        self.put(&path.to_string_lossy())
    }

    /// Adds `--put SPEC`.
    pub fn put(mut self, spec: &str) -> RunOpts {
        self.puts.push(spec.to_owned());
        self
    }

    /// Adds `--get SPEC`.
    pub fn get(mut self, spec: &str) -> RunOpts {
        self.gets.push(spec.to_owned());
        self
    }

    /// Sets `--disk`.
    pub fn disk(mut self, image: &Path) -> RunOpts {
        self.disk = Some(image.to_owned());
        self
    }

    /// Sets `--mem`.
    pub fn mem(mut self, size: &str) -> RunOpts {
        self.mem = Some(size.to_owned());
        self
    }

    /// Sets `--user-mem`.
    pub fn user_mem(mut self, size: &str) -> RunOpts {
        self.user_mem = Some(size.to_owned());
        self
    }

    /// Sets `--swap`.
    pub fn swap(mut self, size: &str) -> RunOpts {
        self.swap = Some(size.to_owned());
        self
    }

    /// Sets `--timeout`.
    pub fn timeout(mut self, secs: u64) -> RunOpts {
        self.timeout = secs;
        self
    }
}

/// What one VM run produced.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub stdout: String,
    pub stderr: String,
    /// The VMM's exit status, or -1 if it died from a signal.
    pub status: i32,
}

impl Outcome {
    /// The console lines (a final line without a newline counts as a line).
    pub fn lines(&self) -> Vec<&str> {
        split_lines(&self.stdout)
    }
}

/// A required environment variable.
fn env_path(name: &str) -> PathBuf {
    match std::env::var_os(name) {
        Some(v) if !v.is_empty() => PathBuf::from(v),
        _ => panic!("{name} is not set: run the suite with `cargo xtask test`"),
    }
}

/// Whether the suite runs in the emulated native CPU mode
/// (`FAULTLINE_CPU_MODE=native`), where every ring-0 instruction costs about a
/// microsecond: the heavy tests (eviction, swap, fork under pressure) skip
/// themselves there.
pub fn native_mode() -> bool {
    std::env::var("FAULTLINE_CPU_MODE").is_ok_and(|mode| mode == "native")
}

/// The directory holding the guest programs (`FAULTLINE_USER_DIR`).
pub fn user_dir() -> PathBuf {
    env_path("FAULTLINE_USER_DIR")
}

/// A test data file: from `FAULTLINE_DATA_DIR`, else from `user/data` in the source tree.
pub fn data_file(name: &str) -> PathBuf {
    let dir = match std::env::var_os("FAULTLINE_DATA_DIR") {
        Some(v) if !v.is_empty() => PathBuf::from(v),
        _ => Path::new(env!("CARGO_MANIFEST_DIR")).join("../user/data"),
    };
    dir.join(name)
}

/// The arguments of `faultline` for `cmdline` and `opts`.
pub fn command_args(cmdline: &str, opts: &RunOpts) -> Vec<String> {
    let mut args: Vec<String> = vec![
        "--kernel".into(),
        env_path("FAULTLINE_KERNEL").to_string_lossy().into_owned(),
        "--user-dir".into(),
        user_dir().to_string_lossy().into_owned(),
        "--quiet".into(),
        "--timeout".into(),
        opts.timeout.to_string(),
    ];
    if let Some(mode) = std::env::var_os("FAULTLINE_CPU_MODE").filter(|m| !m.is_empty()) {
        args.push("--cpu-mode".into());
        args.push(mode.to_string_lossy().into_owned());
    }
    let mut opt = |flag: &str, value: &str| {
        args.push(flag.to_owned());
        args.push(value.to_owned());
    };
    if let Some(mem) = &opts.mem {
        opt("--mem", mem);
    }
    if let Some(user_mem) = &opts.user_mem {
        opt("--user-mem", user_mem);
    }
    for put in &opts.puts {
        opt("--put", put);
    }
    for get in &opts.gets {
        opt("--get", get);
    }
    if let Some(disk) = &opts.disk {
        opt("--disk", &disk.to_string_lossy());
    }
    if let Some(swap) = &opts.swap {
        opt("--swap", swap);
    }
    args.push("--".into());
    args.push(cmdline.into());
    args
}

/// Boots one VM running `cmdline` (program and arguments, as one string) with
/// stdin from /dev/null, and collects its output and exit status.
pub fn run(cmdline: &str, opts: &RunOpts) -> Outcome {
    let bin = env_path("FAULTLINE_BIN");
    let args = command_args(cmdline, opts);
    let mut child = Command::new(&bin)
        .args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let deadline = Instant::now() + Duration::from_secs(opts.timeout) + GRACE;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status.code().unwrap_or(-1),
            Ok(None) if Instant::now() >= deadline => {
                // The VMM ignored its own --timeout: stop it from the outside.
                let _ = child.kill();
                let _ = child.wait();
                break -1;
            }
            Ok(None) => thread::sleep(Duration::from_millis(10)),
            Err(e) => panic!("cannot wait for {}: {e}", bin.display()),
        }
    };
    Outcome {
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
        status,
    }
}

/// Reads a pipe to its end on a thread (so that a full pipe never stalls the VMM).
fn drain<R: Read + Send + 'static>(pipe: Option<R>) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut bytes);
        }
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

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
    pub lines: Vec<String>,
    pub status: i32,
}

impl Expected {
    pub fn new<S: AsRef<str>>(lines: &[S], status: i32) -> Expected {
        Expected {
            lines: lines.iter().map(|l| l.as_ref().to_owned()).collect(),
            status,
        }
    }
}

/// Runs `cmdline` and requires exactly `expected` lines and exit `status`.
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
pub fn expect_one_of(
    cmdline: &str,
    opts: &RunOpts,
    accepted: &[Expected],
    filter: Filter,
) -> Outcome {
    let outcome = run(cmdline, opts);
    if let Err(report) = judge(&outcome, accepted, filter) {
        panic!("`{cmdline}` failed:\n{report}");
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

/// A fresh, empty directory for one test's files, removed when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    /// Creates `<tmp>/faultline-<tag>-<pid>-<n>`.
    pub fn new(tag: &str) -> TempDir {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("faultline-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display()));
        TempDir(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        // Best effort: a leftover temporary directory is harmless.
        let _ = std::fs::remove_dir_all(&self.0);
    }
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
