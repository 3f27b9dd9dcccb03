//! `--flamegraph FILE.svg`: the sampler's stacks symbolized (kernel frames
//! with the kernel ELF, user frames with the running program's ELF from
//! `--user-dir`), folded into collapsed stacks (`process;outer;...;inner
//! count`) and rendered as an SVG flamegraph with `inferno` (or written as
//! text for other tools when the file name ends in `.folded`).

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::guest_stack::is_kernel_address;
use crate::sampler::Sample;
use crate::symbols::Symbols;

/// Turns sampled addresses into frame names.
pub struct Symbolizer<'a> {
    kernel: &'a Symbols,
    user_dir: Option<PathBuf>,
    /// User programs' symbols by executable name (`None`: not loadable).
    users: HashMap<String, Option<Symbols>>,
}

impl<'a> Symbolizer<'a> {
    /// Kernel frames from `kernel`; user programs' ELF files from `user_dir`.
    pub fn new(kernel: &'a Symbols, user_dir: Option<&Path>) -> Symbolizer<'a> {
        Symbolizer {
            kernel,
            user_dir: user_dir.map(Path::to_path_buf),
            users: HashMap::new(),
        }
    }

    /// Adds the symbols of program `name` (instead of reading its file).
    pub fn add_program(&mut self, name: &str, symbols: Symbols) {
        self.users.insert(name.to_string(), Some(symbols));
    }

    /// The symbols of user program `name`, loaded on first use.
    fn program(&mut self, name: &str) -> Option<&Symbols> {
        if !self.users.contains_key(name) {
            let syms = self
                .user_dir
                .as_ref()
                .filter(|_| !name.is_empty() && !name.contains('/') && name != "." && name != "..")
                .and_then(|dir| std::fs::read(dir.join(name)).ok())
                .map(|data| Symbols::from_elf(&data))
                .filter(|s| !s.is_empty());
            self.users.insert(name.to_string(), syms);
        }
        self.users.get(name).and_then(Option::as_ref)
    }

    /// The frame name of lookup address `addr` in `program` (the running
    /// executable, if known).
    pub fn frame(&mut self, program: Option<&str>, addr: u64) -> String {
        let name = if is_kernel_address(addr) {
            self.kernel
                .lookup(addr)
                .map_or_else(|| "[kernel]".to_string(), |l| l.name.to_string())
        } else if addr < 0x0000_8000_0000_0000 {
            let program = program.unwrap_or("");
            match self.program(program).and_then(|s| s.lookup(addr)) {
                Some(l) => l.name.to_string(),
                None if program.is_empty() => "[user]".to_string(),
                None => format!("[{program}]"),
            }
        } else {
            "[bad address]".to_string()
        };
        // `;` separates frames in collapsed stacks (and appears in Rust
        // array types such as `[u8; 16]`).
        name.replace(';', ",")
    }
}

/// The root frame of a sample: the program, or the kernel thread.
fn root(sample: &Sample) -> String {
    match &sample.process {
        Some((0, name)) if name.is_empty() => "[kernel]".to_string(),
        Some((0, name)) => format!("[kernel] {name}"),
        Some((_, name)) if !name.is_empty() => name.clone(),
        Some((pid, _)) => format!("pid {pid}"),
        None => "[unknown]".to_string(),
    }
    .replace(';', ",")
}

/// Collapsed stacks (`root;outer;...;inner count`), sorted.
pub fn collapse(samples: &[Sample], sym: &mut Symbolizer<'_>) -> Vec<String> {
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for s in samples {
        let program = s
            .process
            .as_ref()
            .filter(|(pid, _)| *pid != 0)
            .map(|(_, name)| name.as_str());
        let mut stack = root(s);
        for &addr in s.frames.iter().rev() {
            stack.push(';');
            stack.push_str(&sym.frame(program, addr));
        }
        *counts.entry(stack).or_default() += 1;
    }
    counts
        .into_iter()
        .map(|(stack, n)| format!("{stack} {n}"))
        .collect()
}

/// Writes the collapsed stacks to `path`: as text (one `stack count` per line,
/// the input format of flamegraph tools and speedscope) when the file name ends
/// in `.folded` or `.txt`, else as an SVG flamegraph.
pub fn write(lines: &[String], title: &str, subtitle: &str, path: &Path) -> Result<()> {
    let folded = path
        .extension()
        .is_some_and(|e| e == "folded" || e == "txt");
    if folded {
        let mut text = lines.join("\n");
        text.push('\n');
        return std::fs::write(path, text)
            .with_context(|| format!("--flamegraph: writing {}", path.display()));
    }
    render(lines, title, subtitle, path)
}

/// Renders collapsed stacks as an SVG flamegraph at `path`.
pub fn render(lines: &[String], title: &str, subtitle: &str, path: &Path) -> Result<()> {
    let mut opts = inferno::flamegraph::Options::default();
    opts.title = title.to_string();
    opts.subtitle = Some(subtitle.to_string());
    opts.count_name = "samples".to_string();
    opts.hash = true;
    // Keep narrow frames: short runs have few samples.
    opts.min_width = 0.0;
    let file =
        File::create(path).with_context(|| format!("--flamegraph: creating {}", path.display()))?;
    let mut w = BufWriter::new(file);
    if lines.is_empty() {
        // inferno refuses empty input; an explicit empty graph says why.
        let placeholder = ["[no samples] 1".to_string()];
        return inferno::flamegraph::from_lines(
            &mut opts,
            placeholder.iter().map(String::as_str),
            &mut w,
        )
        .with_context(|| format!("--flamegraph: writing {}", path.display()));
    }
    inferno::flamegraph::from_lines(&mut opts, lines.iter().map(String::as_str), &mut w)
        .with_context(|| format!("--flamegraph: writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(process: Option<(u32, &str)>, frames: &[u64]) -> Sample {
        Sample {
            process: process.map(|(p, n)| (p, n.to_string())),
            user_mode: false,
            frames: frames.to_vec(),
        }
    }

    #[test]
    fn stacks_are_symbolized_folded_and_rendered() {
        const K: u64 = 0xffff_ffff_8020_0000;
        let kernel = Symbols::from_entries([
            (
                K,
                0x100,
                "kernel::vm::fault::vm_try_handle_fault".to_string(),
            ),
            (
                K + 0x100,
                0x100,
                "kernel::arch::trap::trap_dispatch".to_string(),
            ),
            (K + 0x200, 0x10, "<[u8; 16]>::fill".to_string()),
        ]);
        let mut sym = Symbolizer::new(&kernel, None);
        sym.add_program(
            "prog",
            Symbols::from_entries([(0x40_1000, 0x100, "prog::main".to_string())]),
        );
        assert_eq!(sym.frame(Some("prog"), 0x40_1010), "prog::main");
        assert_eq!(sym.frame(Some("prog"), K + 0x204), "<[u8, 16]>::fill");
        assert_eq!(sym.frame(Some("other"), 0x40_0000), "[other]");
        assert_eq!(sym.frame(None, 0x40_0000), "[user]");
        assert_eq!(sym.frame(Some("prog"), 0xffff_ffff_8000_0000), "[kernel]");
        assert_eq!(sym.frame(None, 0x8000_0000_0000_0000), "[bad address]");

        let samples = vec![
            sample(Some((3, "prog")), &[K + 8, K + 0x120, 0x40_1050]),
            sample(Some((3, "prog")), &[K + 9, K + 0x121, 0x40_1051]),
            sample(Some((0, "idle")), &[0xffff_ffff_8000_0000]),
            sample(None, &[0x10]),
        ];
        let lines = collapse(&samples, &mut sym);
        assert_eq!(lines.len(), 3);
        assert!(
            lines.contains(&"[kernel] idle;[kernel] 1".to_string()),
            "{lines:?}"
        );
        assert!(
            lines.contains(&"[unknown];[user] 1".to_string()),
            "{lines:?}"
        );
        let want = "prog;prog::main;kernel::arch::trap::trap_dispatch;kernel::vm::fault::vm_try_handle_fault 2";
        assert!(lines.contains(&want.to_string()), "{lines:?}");

        let dir = tempfile::tempdir().unwrap();
        let svg = dir.path().join("f.svg");
        render(&lines, "t", "sub", &svg).unwrap();
        let text = std::fs::read_to_string(&svg).unwrap();
        assert!(
            text.starts_with("<?xml"),
            "{}",
            &text[..100.min(text.len())]
        );
        assert!(text.contains("[kernel] idle"));
        assert!(text.contains("kernel::vm::fault::vm_try_handle_fault"));
        render(&[], "t", "none", &svg).unwrap();
        assert!(
            std::fs::read_to_string(&svg)
                .unwrap()
                .contains("no samples")
        );
    }
}
