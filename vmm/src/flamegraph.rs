//! `--flamegraph FILE.svg`: the sampler's stacks symbolized (kernel frames
//! with the kernel ELF, user frames with the running program's ELF from
//! `--user-dir`), folded into collapsed stacks (`process;outer;...;inner
//! count`) and rendered as an SVG flamegraph with `inferno` (or written as
//! text for other tools when the file name ends in `.folded`). Kernel, user
//! and marker frames get their own hues ([`crate::flame_palette`]); a stack
//! the walker could not complete starts with a marker frame that says why.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::flame_palette::{self, Class};
use crate::guest_stack::is_kernel_address;
use crate::sampler::Sample;
use crate::stack_walk::{Cut, End, MAX_FRAMES};
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
        self.classified(program, addr).0
    }

    /// The frame name of `addr` and whose code it is.
    fn classified(&mut self, program: Option<&str>, addr: u64) -> (String, Class) {
        let (name, class) = if is_kernel_address(addr) {
            let name = self
                .kernel
                .lookup(addr)
                .map_or_else(|| "[kernel]".to_string(), |l| l.name.to_string());
            (name, Class::Kernel)
        } else if addr < 0x0000_8000_0000_0000 {
            let program = program.unwrap_or("");
            let name = match self.program(program).and_then(|s| s.lookup(addr)) {
                Some(l) => l.name.to_string(),
                None if program.is_empty() => "[user]".to_string(),
                None => format!("[{program}]"),
            };
            (name, Class::User)
        } else {
            ("[bad address]".to_string(), Class::Marker)
        };
        // `;` separates frames in collapsed stacks (and appears in Rust
        // array types such as `[u8; 16]`).
        (name.replace(';', ","), class)
    }
}

/// The marker frame for a stack that ends as `end`, if it needs one.
pub fn marker(end: End) -> Option<String> {
    match end {
        End::Root => None,
        End::TrapEntry => Some("[trap entry]".to_string()),
        End::Truncated(Cut::Unmapped) => Some("[truncated: unmapped stack page]".to_string()),
        End::Truncated(Cut::BadLink) => Some("[truncated: bad frame pointer]".to_string()),
        End::Truncated(Cut::Depth) => Some(format!("[truncated: {MAX_FRAMES} frames]")),
    }
}

/// Collapsed stacks and the class of every frame name in them.
#[derive(Debug, Default)]
pub struct Folded {
    /// `root;outer;...;inner count`, sorted.
    pub lines: Vec<String>,
    /// The class of each frame name (for the colours).
    pub classes: BTreeMap<String, Class>,
}

/// The root frame of a sample: the program, or the kernel thread.
fn root(sample: &Sample) -> (String, Class) {
    let (name, class) = match &sample.process {
        Some((0, name)) if name.is_empty() => ("[kernel]".to_string(), Class::Kernel),
        Some((0, name)) => (format!("[kernel] {name}"), Class::Kernel),
        Some((_, name)) if !name.is_empty() => (name.clone(), Class::User),
        Some((pid, _)) => (format!("pid {pid}"), Class::User),
        // Before the kernel publishes its profile buffer (its boot), a
        // sample in kernel mode can only be the kernel's.
        None if !sample.user_mode => ("[kernel]".to_string(), Class::Kernel),
        None => ("[unknown]".to_string(), Class::Marker),
    };
    (name.replace(';', ","), class)
}

/// Collapsed stacks, outermost frame first: the root, the marker of a cut
/// stack, then the frames. A name that is both a kernel and a user frame
/// (`memcpy`, say) gets ` [k]` on its kernel side, so each name has one colour.
pub fn collapse(samples: &[Sample], sym: &mut Symbolizer<'_>) -> Folded {
    let stacks: Vec<Vec<(String, Class)>> = samples
        .iter()
        .map(|s| {
            let program = s
                .process
                .as_ref()
                .filter(|(pid, _)| *pid != 0)
                .map(|(_, name)| name.as_str());
            let mut stack = vec![root(s)];
            stack.extend(marker(s.stack.end).map(|m| (m, Class::Marker)));
            for &addr in s.stack.frames.iter().rev() {
                stack.push(sym.classified(program, addr));
            }
            stack
        })
        .collect();
    let mut seen: BTreeMap<&str, Class> = BTreeMap::new();
    let mut both: std::collections::BTreeSet<&str> = Default::default();
    for (name, class) in stacks.iter().flatten() {
        if *seen.entry(name).or_insert(*class) != *class {
            both.insert(name);
        }
    }
    let mut folded = Folded::default();
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for stack in &stacks {
        let mut line = String::new();
        for (name, class) in stack {
            let name = if *class == Class::Kernel && both.contains(name.as_str()) {
                format!("{name} [k]")
            } else {
                name.clone()
            };
            if !line.is_empty() {
                line.push(';');
            }
            line.push_str(&name);
            folded.classes.insert(name, *class);
        }
        *counts.entry(line).or_default() += 1;
    }
    folded.lines = counts
        .into_iter()
        .map(|(stack, n)| format!("{stack} {n}"))
        .collect();
    folded
}

/// Writes the collapsed stacks to `path`: as text (one `stack count` per line,
/// the input format of flamegraph tools and speedscope) when the file name ends
/// in `.folded` or `.txt`, else as an SVG flamegraph.
pub fn write(folded: &Folded, title: &str, subtitle: &str, path: &Path) -> Result<()> {
    let as_text = path
        .extension()
        .is_some_and(|e| e == "folded" || e == "txt");
    if as_text {
        let mut text = folded.lines.join("\n");
        text.push('\n');
        return std::fs::write(path, text)
            .with_context(|| format!("--flamegraph: writing {}", path.display()));
    }
    render(folded, title, subtitle, path)
}

/// Renders collapsed stacks as an SVG flamegraph at `path`, coloured by class.
pub fn render(folded: &Folded, title: &str, subtitle: &str, path: &Path) -> Result<()> {
    let lines = &folded.lines;
    let mut palette = flame_palette::palette(&folded.classes);
    let mut opts = inferno::flamegraph::Options::default();
    opts.palette_map = Some(&mut palette);
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
        cut(process, frames, End::Root)
    }

    fn cut(process: Option<(u32, &str)>, frames: &[u64], end: End) -> Sample {
        Sample {
            process: process.map(|(p, n)| (p, n.to_string())),
            user_mode: frames.first().is_some_and(|&pc| pc < 1 << 63),
            stack: crate::stack_walk::Stack {
                frames: frames.to_vec(),
                end,
            },
        }
    }

    /// `fill="rgb(..)"` of the frame titled `name` in an inferno SVG.
    fn fill_of(svg: &str, name: &str) -> String {
        let at = svg
            .find(&format!("<title>{name} ("))
            .unwrap_or_else(|| panic!("no frame {name}"));
        let rest = &svg[at..];
        let f = rest.find("fill=\"").unwrap() + 6;
        rest[f..f + rest[f..].find('"').unwrap()].to_string()
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
            // Before the kernel published its profile buffer: its boot.
            sample(None, &[0xffff_ffff_8000_0000]),
        ];
        let folded = collapse(&samples, &mut sym);
        let lines = &folded.lines;
        assert_eq!(lines.len(), 4);
        assert!(
            lines.contains(&"[kernel];[kernel] 1".to_string()),
            "{lines:?}"
        );
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
        render(&folded, "t", "sub", &svg).unwrap();
        let text = std::fs::read_to_string(&svg).unwrap();
        assert!(
            text.starts_with("<?xml"),
            "{}",
            &text[..100.min(text.len())]
        );
        assert!(text.contains("[kernel] idle"));
        assert!(text.contains("kernel::vm::fault::vm_try_handle_fault"));
        render(&Folded::default(), "t", "none", &svg).unwrap();
        assert!(
            std::fs::read_to_string(&svg)
                .unwrap()
                .contains("no samples")
        );
    }

    #[test]
    fn cut_stacks_are_marked_and_classes_coloured_apart() {
        const K: u64 = 0xffff_ffff_8020_0000;
        let kernel = Symbols::from_entries([
            (K, 0x100, "trap_stubs".to_string()),
            (K + 0x100, 0x100, "memcpy".to_string()),
        ]);
        let mut sym = Symbolizer::new(&kernel, None);
        sym.add_program(
            "prog",
            Symbols::from_entries([
                (0x40_1000, 0x100, "prog::main".to_string()),
                (0x40_2000, 0x100, "memcpy".to_string()),
            ]),
        );
        let p = Some((3, "prog"));
        let samples = vec![
            cut(p, &[K + 8, 0x40_1010], End::Root),
            cut(p, &[K + 8], End::TrapEntry),
            cut(p, &[0x40_1010], End::Truncated(Cut::Unmapped)),
            cut(p, &[0x40_1010], End::Truncated(Cut::Depth)),
            cut(p, &[0x40_2010, 0x40_1010], End::Truncated(Cut::BadLink)),
            cut(p, &[K + 0x110], End::Root),
        ];
        let folded = collapse(&samples, &mut sym);
        let want = [
            "prog;[trap entry];trap_stubs 1",
            "prog;[truncated: 128 frames];prog::main 1",
            "prog;[truncated: bad frame pointer];prog::main;memcpy 1",
            "prog;[truncated: unmapped stack page];prog::main 1",
            "prog;memcpy [k] 1",
            "prog;prog::main;trap_stubs 1",
        ];
        assert_eq!(folded.lines, want);
        assert_eq!(folded.classes["memcpy"], Class::User);
        assert_eq!(folded.classes["memcpy [k]"], Class::Kernel);
        assert_eq!(folded.classes["[trap entry]"], Class::Marker);
        assert_eq!(folded.classes["prog"], Class::User);

        let dir = tempfile::tempdir().unwrap();
        let svg = dir.path().join("c.svg");
        render(&folded, "t", "sub", &svg).unwrap();
        let text = std::fs::read_to_string(&svg).unwrap();
        let rgb = |name: &str, class| {
            let c = flame_palette::color(name, class);
            format!("rgb({},{},{})", c.r, c.g, c.b)
        };
        for (name, class) in [
            ("trap_stubs", Class::Kernel),
            ("prog::main", Class::User),
            ("[trap entry]", Class::Marker),
        ] {
            assert_eq!(fill_of(&text, name), rgb(name, class), "{name}");
        }
    }
}
