//! The documentation's commands, run as written: every line of a fenced code
//! block in README.md and docs/*.md that starts with `cargo xtask` or
//! `faultline` (after an optional `$ ` prompt; a trailing `\` continues it on
//! the next line) must exit with the status the doc gives it: 0, or N when
//! the line's comment says `exits N`.
//!
//! Exempt (listed, not run): `cargo xtask test` (this suite), `cargo xtask
//! bench` (minutes of measurements), `cargo xtask gdb` and any command with
//! `--gdb` (they wait for a debugger).
//!
//! Each runs with `sh -c` in its own directory under `<root>/target/doc-commands/`
//! (inside the workspace, so `cargo xtask` and the toolchain file are found,
//! and files it writes land there), with the VMM's directory first in `PATH` and
//! `FAULTLINE_KERNEL` and `FAULTLINE_USER_DIR` set for bare `faultline` lines
//! (and the VMM's image cache in the target directory).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result};

use super::filter::NameFilter;
use super::outcome::Verdict;
use super::pool::{self, Job};
use super::{Report, record};
use crate::paths::Paths;

/// The longest a doc command may run.
pub const CAP: Duration = Duration::from_secs(180);

/// A command found in the docs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocCommand {
    /// `FILE:LINE`, the file relative to the workspace root.
    pub name: String,
    /// The command as written (continuation lines joined, comment removed).
    pub command: String,
    /// The exit status the doc gives it.
    pub expected: i32,
    /// Why it is not run, if it is exempt.
    pub exempt: Option<&'static str>,
}

/// The markdown files whose commands are checked: README.md and docs/*.md.
pub fn doc_files(root: &Path) -> Result<Vec<PathBuf>> {
    let mut files = vec![root.join("README.md")];
    let docs = root.join("docs");
    let mut more: Vec<PathBuf> = fs::read_dir(&docs)
        .with_context(|| format!("cannot list {}", docs.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    more.sort();
    files.extend(more);
    Ok(files)
}

/// Every command of every doc file.
pub fn all(root: &Path) -> Result<Vec<DocCommand>> {
    let mut commands = Vec::new();
    for file in doc_files(root)? {
        let text =
            fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
        let rel = file.strip_prefix(root).unwrap_or(&file);
        commands.extend(extract(&rel.to_string_lossy(), &text));
    }
    Ok(commands)
}

/// The commands in the fenced code blocks of `text` (the doc `file`).
pub fn extract(file: &str, text: &str) -> Vec<DocCommand> {
    let mut commands = Vec::new();
    let mut fence: Option<&str> = None;
    let mut lines = text.lines().enumerate();
    while let Some((at, line)) = lines.next() {
        let trimmed = line.trim_start();
        match fence {
            None => {
                if let Some(mark) = ["```", "~~~"].into_iter().find(|m| trimmed.starts_with(m)) {
                    fence = Some(mark);
                }
                continue;
            }
            Some(mark) if trimmed.starts_with(mark) => {
                fence = None;
                continue;
            }
            Some(_) => {}
        }
        let mut full = trimmed.strip_prefix("$ ").unwrap_or(trimmed).to_owned();
        while full.ends_with('\\') {
            full.pop();
            match lines.next() {
                Some((_, next)) => full += next.trim_start(),
                None => break,
            }
        }
        let (command, comment) = split_comment(&full);
        let command = command.trim();
        if !(command.starts_with("cargo xtask ")
            || command == "cargo xtask"
            || command.starts_with("faultline "))
        {
            continue;
        }
        commands.push(DocCommand {
            name: format!("{file}:{}", at + 1),
            command: command.to_owned(),
            expected: expected_status(comment),
            exempt: exemption(command),
        });
    }
    commands
}

/// Splits a shell line at its comment: a `#` outside quotes that starts a word.
fn split_comment(line: &str) -> (&str, &str) {
    let mut quote = None;
    let mut prev = ' ';
    for (i, c) in line.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None if c == '#' && prev.is_whitespace() => return (&line[..i], &line[i + 1..]),
            None => {}
        }
        prev = c;
    }
    (line, "")
}

/// The status a comment gives (`exits N`), else 0.
fn expected_status(comment: &str) -> i32 {
    let mut words = comment.split_whitespace();
    while let Some(word) = words.next() {
        if word == "exits"
            && let Some(n) = words.next().and_then(|w| {
                w.trim_end_matches(|c: char| !c.is_ascii_digit())
                    .parse()
                    .ok()
            })
        {
            return n;
        }
    }
    0
}

/// Why `command` is not run, if it is one of the exempt kinds.
fn exemption(command: &str) -> Option<&'static str> {
    let words: Vec<&str> = command.split_whitespace().collect();
    match words.get(..3) {
        Some(["cargo", "xtask", "test"]) => Some("runs this whole suite"),
        Some(["cargo", "xtask", "bench"]) => Some("takes minutes"),
        Some(["cargo", "xtask", "gdb"]) => Some("interactive: starts gdb"),
        _ if words.contains(&"--gdb") => Some("waits for a debugger"),
        _ => None,
    }
}

/// The job that runs `doc` (numbered `n` for its directory) and how it is
/// judged later: its exit status against `doc.expected`.
pub fn job(paths: &Paths, doc: &DocCommand, n: usize) -> Result<Job> {
    let dir = paths
        .root
        .join("target")
        .join("doc-commands")
        .join(n.to_string());
    // A leftover from an earlier run may or may not be there.
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let release = paths.vmm_bin();
    let release = release.parent().unwrap_or(&paths.target);
    let path = std::env::var_os("PATH").unwrap_or_default();
    let path = std::env::join_paths(
        std::iter::once(release.to_path_buf()).chain(std::env::split_paths(&path)),
    )
    .context("cannot build PATH for the doc commands")?;
    let mut command = Command::new("sh");
    command
        .args(["-c", &doc.command])
        .current_dir(&dir)
        .env("PATH", path)
        .env("CARGO_TARGET_DIR", &paths.target)
        .env("FAULTLINE_KERNEL", paths.kernel_elf())
        .env("FAULTLINE_USER_DIR", paths.guest_bin())
        .env(crate::cargo::CACHE_DIR_ENV, paths.image_cache());
    Ok(Job {
        name: doc.name.clone(),
        command,
        cap: CAP,
    })
}

/// Runs the documentation's commands that `filter` selects, a line each,
/// counting them into `report`.
pub fn run(
    paths: &Paths,
    filter: Option<&NameFilter>,
    workers: usize,
    report: &mut Report,
) -> Result<()> {
    let selected: Vec<_> = all(&paths.root)?
        .into_iter()
        .filter(|d| filter.is_none_or(|f| f.matches(&d.name)))
        .collect();
    if selected.is_empty() {
        return Ok(());
    }
    let (exempt, runnable): (Vec<_>, Vec<_>) =
        selected.into_iter().partition(|d| d.exempt.is_some());
    println!(
        "doc commands (README.md, docs/*.md): {} to run, {} exempt (cargo xtask test, bench, gdb; --gdb)",
        runnable.len(),
        exempt.len()
    );
    let jobs = runnable
        .iter()
        .enumerate()
        .map(|(n, doc)| job(paths, doc, n))
        .collect::<Result<Vec<_>>>()?;
    pool::run_all(jobs, workers, |finished| {
        let doc = &runnable[finished.index];
        let verdict = match (&finished.error, finished.timed_out, finished.code) {
            (Some(err), _, _) => Verdict::Fail(Some(err.clone())),
            (None, true, _) => Verdict::Fail(Some(format!("killed after {} s", CAP.as_secs()))),
            (None, false, Some(code)) if code == doc.expected => Verdict::Pass,
            (None, false, code) => Verdict::Fail(Some(format!(
                "`{}` exited with {}, the doc says {}",
                doc.command,
                code.map_or_else(|| "a signal".into(), |c| c.to_string()),
                doc.expected
            ))),
        };
        let title = format!("{} `{}`", doc.name, doc.command);
        record(report, &finished, verdict, title, None);
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{DocCommand, extract};

    #[test]
    fn commands_are_found_in_code_blocks_only() {
        let doc = "\
Run `cargo xtask run -- echo` like this:

```sh
cargo xtask run -- echo hello   # build and run
$ faultline --kernel k \\
    -- halt
cargo xtask run -- exit 3       # exits 3
gdb -ex 'target remote :1234'
cargo xtask test
cargo xtask run --gdb 1234 -- halt
```

```
faultline: booting halt
```
cargo xtask run -- not-in-a-block
";
        let found = extract("README.md", doc);
        let run = |name: &str, command: &str, expected| DocCommand {
            name: name.into(),
            command: command.into(),
            expected,
            exempt: None,
        };
        assert_eq!(found.len(), 5, "{found:#?}");
        assert_eq!(
            found[0],
            run("README.md:4", "cargo xtask run -- echo hello", 0)
        );
        assert_eq!(
            found[1],
            run("README.md:5", "faultline --kernel k -- halt", 0)
        );
        assert_eq!(found[2], run("README.md:7", "cargo xtask run -- exit 3", 3));
        assert_eq!(found[3].exempt, Some("runs this whole suite"));
        assert_eq!(found[4].exempt, Some("waits for a debugger"));
    }

    #[test]
    fn a_hash_inside_quotes_is_not_a_comment() {
        let found = extract("x.md", "```\ncargo xtask run -- 'echo #1' # exits 0\n```\n");
        assert_eq!(found[0].command, "cargo xtask run -- 'echo #1'");
        assert_eq!(found[0].expected, 0);
    }
}
