//! Booting one VM: the `faultline` command line of a run's options, the run
//! itself, and the command that reproduces it.
//!
//! When `FAULTLINE_SHOW` is set (`cargo xtask run --test NAME` sets it), every
//! run prints its command before it starts, and its console, stderr and exit
//! status after it ends.

use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::host::requested_mode;
use crate::opts::RunOpts;
use crate::paths::{kernel, user_dir, vmm_bin};
use crate::wait::collect_until;

/// Extra time the harness grants the VMM beyond its own `--timeout` before
/// killing it from the outside.
const GRACE: Duration = Duration::from_secs(30);

/// What one VM run produced.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The VMM's standard output: the guest's console.
    pub stdout: String,
    /// The VMM's standard error: its `faultline:` messages and reports.
    pub stderr: String,
    /// The VMM's exit status, or -1 if it died from a signal.
    pub status: i32,
}

impl Outcome {
    /// The console lines (a final line without a newline counts as a line).
    pub fn lines(&self) -> Vec<&str> {
        crate::judge::split_lines(&self.stdout)
    }
}

/// [`command_args`] with the options `extra` added after the suite's, before
/// the `--` (e.g. `--stats`, `--gdb PORT`, a bad flag). Panics as it does.
pub fn command_args_with(cmdline: &str, opts: &RunOpts, extra: &[&str]) -> Vec<String> {
    let mut args = command_args(cmdline, opts);
    // `command_args` ends with `--` and the command line.
    let at = args.len() - 2;
    args.splice(at..at, extra.iter().map(|s| s.to_string()));
    args
}

/// The arguments of `faultline` for `cmdline` and `opts`. Panics when the
/// built guest cannot be found (see [`crate::paths`]).
pub fn command_args(cmdline: &str, opts: &RunOpts) -> Vec<String> {
    let mut args: Vec<String> = vec![
        "--kernel".into(),
        kernel().to_string_lossy().into_owned(),
        "--user-dir".into(),
        user_dir().to_string_lossy().into_owned(),
        "--quiet".into(),
        "--timeout".into(),
        seconds(opts.timeout),
        "--cpu-mode".into(),
        requested_mode(),
    ];
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

/// `time` as `--timeout` takes it: seconds, with milliseconds if any
/// (`60`, `0.5`).
fn seconds(time: Duration) -> String {
    let millis = time.subsec_millis();
    let secs = time.as_secs();
    if millis == 0 {
        return secs.to_string();
    }
    format!("{secs}.{}", format!("{millis:03}").trim_end_matches('0'))
}

/// A `faultline` command for `cmdline` and `opts`, for tests that set up its
/// standard streams, environment or signals themselves. Panics when the
/// built guest cannot be found.
pub fn command(cmdline: &str, opts: &RunOpts) -> Command {
    let mut cmd = Command::new(vmm_bin());
    cmd.args(command_args(cmdline, opts));
    cmd
}

/// `word` quoted for a POSIX shell (unchanged when it needs no quotes).
pub fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-./:=@%+,".contains(&b));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// The whole `faultline` command line of a run, quoted for a shell.
pub fn command_line(cmdline: &str, opts: &RunOpts) -> String {
    std::iter::once(vmm_bin().to_string_lossy().into_owned())
        .chain(command_args(cmdline, opts))
        .map(|word| shell_quote(&word))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The running test's name: `FAULTLINE_TEST_NAME` (set by `cargo xtask
/// test`), else the name libtest gives the test's thread.
pub fn test_name() -> Option<String> {
    std::env::var("FAULTLINE_TEST_NAME")
        .ok()
        .filter(|n| !n.is_empty())
        .or_else(|| {
            thread::current()
                .name()
                .filter(|n| *n != "main")
                .map(str::to_owned)
        })
}

/// How to reproduce a run: `cargo xtask run --test NAME` for the whole test
/// (when its name is known), and the run's own `faultline` command.
pub fn reproduction(cmdline: &str, opts: &RunOpts) -> String {
    let mut text = String::new();
    if let Some(name) = test_name() {
        text += &format!(
            "reproduce: cargo xtask run --test {name} --cpu-mode {}\n",
            requested_mode()
        );
    }
    text += &format!("   the VM: {}\n", command_line(cmdline, opts));
    text
}

/// Whether runs show their command, console and verdict (`FAULTLINE_SHOW`).
pub fn showing() -> bool {
    std::env::var_os("FAULTLINE_SHOW").is_some_and(|v| !v.is_empty())
}

/// Boots one VM running `cmdline` (program and arguments, as one string) with
/// stdin from /dev/null, and collects its output and exit status. Panics when
/// the VMM cannot be started or waited for.
pub fn run(cmdline: &str, opts: &RunOpts) -> Outcome {
    let bin = vmm_bin();
    let args = command_args(cmdline, opts);
    if showing() {
        // On a line of its own, after libtest's `test NAME ... `.
        println!("\n$ {}", command_line(cmdline, opts));
    }
    let mut child = Command::new(&bin)
        .args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
    let deadline = Instant::now() + opts.timeout + GRACE;
    let (stdout, stderr, status) = match collect_until(&mut child, deadline) {
        Ok((out, err, Some(status))) => (out, err, status.code().unwrap_or(-1)),
        Ok((out, err, None)) => {
            // The VMM ignored its own --timeout: stop it from the outside.
            let _ = child.kill();
            let _ = child.wait();
            (out, err, -1)
        }
        Err(e) => panic!("cannot wait for {}: {e}", bin.display()),
    };
    let outcome = Outcome {
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
        status,
    };
    if showing() {
        show(&outcome);
    }
    outcome
}

/// Prints a run's console, stderr and status (for `FAULTLINE_SHOW`).
fn show(outcome: &Outcome) {
    println!("--- console:");
    print!("{}", outcome.stdout);
    if !outcome.stdout.is_empty() && !outcome.stdout.ends_with('\n') {
        println!();
    }
    if !outcome.stderr.is_empty() {
        println!("--- stderr:");
        print!("{}", outcome.stderr);
        if !outcome.stderr.ends_with('\n') {
            println!();
        }
    }
    println!("--- exit status {}", outcome.status);
}

/// Runs `faultline` with exactly `args` (stdin empty) and returns its raw
/// output, for tests of the command line itself. Panics when it cannot start.
pub fn run_args(args: &[String]) -> std::process::Output {
    Command::new(vmm_bin())
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("faultline runs")
}

#[cfg(test)]
mod tests {
    use super::shell_quote;

    #[test]
    fn timeouts_are_written_in_seconds() {
        use std::time::Duration;
        assert_eq!(super::seconds(Duration::from_secs(60)), "60");
        assert_eq!(super::seconds(Duration::from_millis(500)), "0.5");
        assert_eq!(super::seconds(Duration::from_millis(2250)), "2.25");
    }

    #[test]
    fn words_are_quoted_for_a_shell() {
        assert_eq!(shell_quote("--put"), "--put");
        assert_eq!(
            shell_quote("/tmp/x/large.txt:large.txt"),
            "/tmp/x/large.txt:large.txt"
        );
        assert_eq!(
            shell_quote("args-dbl-space two  spaces!"),
            "'args-dbl-space two  spaces!'"
        );
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
    }
}
