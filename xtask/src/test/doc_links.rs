//! The documentation's references, checked: every relative link in
//! README.md and docs/*.md (`[text](path)`, `[text](path#heading)`,
//! `[text](#heading)`) must name a file or directory of the repository and,
//! with a `#fragment`, a heading of that markdown file; every inline-code
//! span that is a repository path (`kernel/src/vm/fault.rs`, `docs/`) must
//! exist. And no file of the repository may name a path of the machine it
//! was written on (a home directory, a work directory).
//!
//! These run as xtask's unit tests, so `cargo xtask test` (its host suites)
//! and a plain `cargo test` both check them. Fenced code blocks are skipped:
//! they hold commands and program output, which `doc_commands` checks.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::doc_commands::doc_files;

/// Top-level directories of the repository: an inline-code span starting
/// with one of these is taken for a repository path.
const REPO_DIRS: [&str; 8] = [
    "docs/", "kernel/", "tests/", "user/", "vmm/", "xtask/", ".ci/", ".cargo/",
];

/// One markdown file's text with fenced code blocks blanked out (line
/// numbers kept).
fn prose(text: &str) -> Vec<&str> {
    let mut fence: Option<&str> = None;
    text.lines()
        .map(|line| {
            let trimmed = line.trim_start();
            match fence {
                None => {
                    if let Some(mark) = ["```", "~~~"].into_iter().find(|m| trimmed.starts_with(m))
                    {
                        fence = Some(mark);
                        return "";
                    }
                    line
                }
                Some(mark) => {
                    if trimmed.starts_with(mark) {
                        fence = None;
                    }
                    ""
                }
            }
        })
        .collect()
}

/// The inline-code spans of one line and the line with them removed.
fn split_code(line: &str) -> (Vec<&str>, String) {
    let mut spans = Vec::new();
    let mut rest = String::new();
    let mut parts = line.split('`');
    let mut inside = false;
    for part in parts.by_ref() {
        if inside {
            spans.push(part);
        } else {
            rest.push_str(part);
        }
        inside = !inside;
    }
    (spans, rest)
}

/// The targets of the inline links `[text](target)` in `line` (code spans
/// already removed), without a title.
fn link_targets(line: &str) -> Vec<&str> {
    let mut targets = Vec::new();
    let mut at = 0;
    while let Some(found) = line[at..].find("](") {
        let start = at + found + 2;
        let Some(len) = line[start..].find(')') else {
            break;
        };
        let target = line[start..start + len].split_whitespace().next();
        targets.extend(target);
        at = start + len;
    }
    targets
}

/// GitHub's anchor for a heading: lower case, punctuation other than `-`
/// and `_` dropped, spaces turned into `-`.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c.to_ascii_lowercase()),
            _ => None,
        })
        .collect()
}

/// The anchors of a markdown file's headings.
fn anchors(text: &str) -> Vec<String> {
    prose(text)
        .into_iter()
        .filter_map(|line| {
            let hashes = line.len() - line.trim_start_matches('#').len();
            (1..=6)
                .contains(&hashes)
                .then(|| line[hashes..].strip_prefix(' '))
                .flatten()
        })
        .map(slug)
        .collect()
}

/// Words that stand for any name in a path (`user/src/bin/NAME.rs`).
const PLACEHOLDERS: [&str; 4] = ["NAME", "FILE", "PROGRAM", "N"];

/// Whether `span` (an inline-code span) names a repository path to check:
/// it starts with a top-level directory, has only path characters, and no
/// component is a placeholder.
fn is_repo_path(span: &str) -> bool {
    REPO_DIRS.iter().any(|d| span.starts_with(d))
        && span
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '_' | '-'))
        && !span.split('/').any(|part| {
            let stem = part.split('.').next().unwrap_or(part);
            PLACEHOLDERS.contains(&stem)
        })
}

/// Every broken reference in README.md and docs/*.md under `root`, as
/// `FILE:LINE: what`. Fails only if a doc cannot be read.
pub fn broken_references(root: &Path) -> Result<Vec<String>> {
    let mut broken = Vec::new();
    for file in doc_files(root)? {
        let text =
            fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
        let rel = file
            .strip_prefix(root)
            .unwrap_or(&file)
            .display()
            .to_string();
        let dir = file.parent().unwrap_or(root);
        for (n, line) in prose(&text).into_iter().enumerate() {
            let at = format!("{rel}:{}", n + 1);
            let (spans, rest) = split_code(line);
            for span in spans.into_iter().filter(|s| is_repo_path(s)) {
                if !root.join(span).exists() {
                    broken.push(format!("{at}: `{span}` is not in the repository"));
                }
            }
            for target in link_targets(&rest) {
                if target.contains("://") || target.starts_with("mailto:") {
                    continue;
                }
                let (path, fragment) = target.split_once('#').unwrap_or((target, ""));
                let resolved = if path.is_empty() {
                    file.clone()
                } else {
                    dir.join(path)
                };
                if !resolved.exists() {
                    broken.push(format!("{at}: link to {target}: no such file"));
                    continue;
                }
                if fragment.is_empty() {
                    continue;
                }
                let headings = fs::read_to_string(&resolved)
                    .map(|t| anchors(&t))
                    .unwrap_or_default();
                if !headings.iter().any(|h| h == fragment) {
                    broken.push(format!("{at}: link to {target}: no such heading"));
                }
            }
        }
    }
    Ok(broken)
}

/// Every file under `dir` (recursively), skipping build outputs and git's
/// own directory.
fn files_under(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
        let entry = entry?;
        let path = entry.path();
        let name = entry.file_name();
        if name == ".git" || name == "target" {
            continue;
        }
        if entry.file_type()?.is_dir() {
            files_under(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

/// Files under `root` that name a path of the machine they were written on,
/// as `FILE: the path prefix`. Binary files are skipped.
pub fn machine_paths(root: &Path) -> Result<Vec<String>> {
    // Built from pieces so that this file does not name them itself.
    let prefixes: Vec<String> = ["work", "root", "home"]
        .iter()
        .map(|dir| format!("/{dir}/"))
        .collect();
    let mut files = Vec::new();
    files_under(root, &mut files)?;
    let mut found = Vec::new();
    for file in files {
        let Ok(text) = fs::read_to_string(&file) else {
            continue;
        };
        let rel = file
            .strip_prefix(root)
            .unwrap_or(&file)
            .display()
            .to_string();
        for prefix in &prefixes {
            if let Some(n) = text.lines().position(|l| l.contains(prefix.as_str())) {
                found.push(format!("{rel}:{}: {prefix}", n + 1));
            }
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("xtask lives in the workspace")
            .to_path_buf()
    }

    #[test]
    fn every_doc_reference_resolves() {
        let broken = broken_references(&root()).unwrap();
        assert!(
            broken.is_empty(),
            "broken references:\n{}",
            broken.join("\n")
        );
    }

    #[test]
    fn no_file_names_a_machine_path() {
        let found = machine_paths(&root()).unwrap();
        assert!(found.is_empty(), "machine paths:\n{}", found.join("\n"));
    }

    #[test]
    fn links_spans_and_anchors_are_parsed() {
        let line =
            "see [the doc](docs/X.md#a-b) and [here](#top \"t\"), `kernel/src/x.rs`, `abi::x`";
        let (spans, rest) = split_code(line);
        assert_eq!(spans, ["kernel/src/x.rs", "abi::x"]);
        assert_eq!(link_targets(&rest), ["docs/X.md#a-b", "#top"]);
        assert!(is_repo_path(spans[0]));
        assert!(!is_repo_path(spans[1]));
        assert!(!is_repo_path("tests/tests/*.rs"));
        assert!(!is_repo_path("user/src/bin/NAME.rs"));
        assert!(is_repo_path("docs/DESIGN.md"));
        assert_eq!(
            slug("The block cache and `--disk`"),
            "the-block-cache-and---disk"
        );
        assert_eq!(slug("The guest/host contract"), "the-guesthost-contract");
        let doc = "# Top\n```\n# not a heading\n```\n## User ABI\n";
        assert_eq!(anchors(doc), ["top", "user-abi"]);
        assert_eq!(prose(doc)[2], "");
    }

    #[test]
    fn a_missing_file_or_heading_is_reported() {
        let dir = std::env::temp_dir().join(format!("xtask-doc-links-{}", std::process::id()));
        let docs = dir.join("docs");
        fs::create_dir_all(&docs).unwrap();
        fs::write(
            dir.join("README.md"),
            "[ok](docs/A.md#there) [gone](docs/B.md) [bad](docs/A.md#nowhere) `vmm/none.rs`\n",
        )
        .unwrap();
        fs::write(docs.join("A.md"), "## There\n[up](../README.md)\n").unwrap();
        let broken = broken_references(&dir).unwrap();
        fs::remove_dir_all(&dir).unwrap();
        assert_eq!(broken.len(), 3, "{broken:#?}");
        assert!(broken[0].contains("`vmm/none.rs`"));
        assert!(broken[1].contains("docs/B.md: no such file"));
        assert!(broken[2].contains("docs/A.md#nowhere: no such heading"));
    }
}
