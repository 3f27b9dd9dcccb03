//! The kernel ELF's symbol table, for turning guest code addresses into
//! `symbol+0xoffset` (demangled) in backtraces and crash reports.

use std::fmt;

use object::{Object, ObjectSymbol, SymbolKind};

/// One function symbol.
#[derive(Clone, Debug)]
struct Symbol {
    addr: u64,
    size: u64,
    name: String,
}

/// Sorted function symbols of the kernel.
#[derive(Clone, Debug, Default)]
pub struct Symbols {
    syms: Vec<Symbol>,
    /// Symbols found by [`Symbols::address_of`] but never used to name an
    /// address: untyped `__...` ones (linker-script bounds such as
    /// `__trap_text_start`, which share addresses with the code they
    /// delimit) and labels at an address another symbol names (such as
    /// `syscall_entry_end`, where `trap_common` starts).
    aliases: Vec<Symbol>,
}

/// Where an address falls: a symbol and the offset into it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location<'a> {
    /// The symbol's (demangled) name.
    pub name: &'a str,
    /// Bytes from the symbol's start to the address.
    pub offset: u64,
}

impl fmt::Display for Location<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}+{:#x}", self.name, self.offset)
    }
}

/// A kernel image with its symbols read on first use: most runs never need
/// them (they serve crash and panic reports and profiling), and reading a
/// kernel's symbol table and debug information, then demangling, costs
/// milliseconds.
pub struct LazySymbols {
    path: std::path::PathBuf,
    /// What booting needs of the file ([`crate::loader::read_loadable`]).
    elf: Vec<u8>,
    parsed: std::sync::OnceLock<Symbols>,
}

impl LazySymbols {
    /// The kernel at `path`, of which `elf` (its start) is already read.
    pub fn new(path: &std::path::Path, elf: Vec<u8>) -> LazySymbols {
        LazySymbols {
            path: path.to_path_buf(),
            elf,
            parsed: std::sync::OnceLock::new(),
        }
    }

    /// What booting needs of the kernel ELF.
    pub fn elf(&self) -> &[u8] {
        &self.elf
    }

    /// The symbols: the whole file is read and parsed on the first call (see
    /// [`Symbols::from_elf`]); a file that can no longer be read gives none.
    pub fn get(&self) -> &Symbols {
        self.parsed.get_or_init(|| match std::fs::read(&self.path) {
            Ok(whole) => Symbols::from_elf(&whole),
            Err(_) => Symbols::default(),
        })
    }
}

impl Symbols {
    /// Reads the symbol table of an ELF image; an image without one (or not an
    /// ELF at all) gives an empty table, since symbols only improve reports.
    pub fn from_elf(data: &[u8]) -> Symbols {
        let Ok(file) = object::File::parse(data) else {
            return Symbols::default();
        };
        let (bounds, syms): (Vec<_>, Vec<_>) = file
            .symbols()
            .filter(|s| {
                s.section_index().is_some()
                    && s.address() != 0
                    && matches!(s.kind(), SymbolKind::Text | SymbolKind::Unknown)
            })
            .filter_map(|s| {
                let name = s.name().ok()?;
                if name.is_empty() {
                    return None;
                }
                let bound = s.kind() == SymbolKind::Unknown && name.starts_with("__");
                let sym = Symbol {
                    addr: s.address(),
                    size: s.size(),
                    name: format!("{:#}", rustc_demangle::demangle(name)),
                };
                Some((bound, sym))
            })
            .partition(|(bound, _)| *bound);
        let bounds = bounds.into_iter().map(|(_, s)| s).collect();
        Symbols::sorted(syms.into_iter().map(|(_, s)| s).collect(), bounds)
    }

    /// A table from `(address, size, name)` entries (names used as given).
    pub fn from_entries(entries: impl IntoIterator<Item = (u64, u64, String)>) -> Symbols {
        let syms = entries
            .into_iter()
            .map(|(addr, size, name)| Symbol { addr, size, name })
            .collect();
        Symbols::sorted(syms, Vec::new())
    }

    /// The table of `syms` sorted by address, one symbol naming each address
    /// (a sized one where several start there); the others join `aliases`,
    /// where [`Symbols::address_of`] still finds them.
    fn sorted(mut syms: Vec<Symbol>, mut aliases: Vec<Symbol>) -> Symbols {
        syms.sort_by(|a, b| a.addr.cmp(&b.addr).then(b.size.cmp(&a.size)));
        let mut named: Vec<Symbol> = Vec::with_capacity(syms.len());
        for sym in syms {
            match named.last() {
                Some(last) if last.addr == sym.addr => aliases.push(sym),
                _ => named.push(sym),
            }
        }
        Symbols {
            syms: named,
            aliases,
        }
    }

    /// The address of the symbol named `name` (demangled, without hash), a
    /// function, label or linker-script bound; `None` if there is none.
    pub fn address_of(&self, name: &str) -> Option<u64> {
        self.syms
            .iter()
            .chain(&self.aliases)
            .find(|s| s.name == name)
            .map(|s| s.addr)
    }

    /// Number of symbols.
    pub fn len(&self) -> usize {
        self.syms.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.syms.is_empty()
    }

    /// The symbol containing `addr`. A sized symbol only covers its own bytes; an
    /// unsized one (assembly labels) covers up to the next symbol.
    pub fn lookup(&self, addr: u64) -> Option<Location<'_>> {
        let i = self
            .syms
            .partition_point(|s| s.addr <= addr)
            .checked_sub(1)?;
        let s = &self.syms[i];
        let offset = addr - s.addr;
        if s.size != 0 && offset >= s.size {
            return None;
        }
        Some(Location {
            name: &s.name,
            offset,
        })
    }

    /// `0xADDR symbol+0xOFF`, or just `0xADDR` when no symbol covers it.
    pub fn describe(&self, addr: u64) -> String {
        match self.lookup(addr) {
            Some(loc) => format!("{addr:#x} {loc}"),
            None => format!("{addr:#x}"),
        }
    }

    /// Like [`Symbols::describe`] for a return address: the symbol is looked up
    /// for the call instruction just before it.
    pub fn describe_return(&self, addr: u64) -> String {
        match self.lookup(addr.wrapping_sub(1)) {
            Some(loc) => format!("{addr:#x} {}+{:#x}", loc.name, loc.offset.wrapping_add(1)),
            None => format!("{addr:#x}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbolizes_the_test_binary_itself() {
        let exe = std::env::current_exe().unwrap();
        let data = std::fs::read(exe).unwrap();
        let syms = Symbols::from_elf(&data);
        assert!(!syms.is_empty());
        let s = &syms.syms[syms.len() / 2];
        let loc = syms.lookup(s.addr + s.size.saturating_sub(1)).unwrap();
        assert_eq!(loc.name, s.name);
        assert!(!syms.describe(s.addr).is_empty());
    }

    #[test]
    fn lookup_respects_sizes() {
        let syms = Symbols {
            syms: vec![
                Symbol {
                    addr: 0x1000,
                    size: 0x10,
                    name: "a".into(),
                },
                Symbol {
                    addr: 0x2000,
                    size: 0,
                    name: "label".into(),
                },
            ],
            aliases: Vec::new(),
        };
        assert_eq!(syms.describe(0x1004), "0x1004 a+0x4");
        assert_eq!(syms.describe(0x1010), "0x1010");
        assert_eq!(syms.describe(0x2100), "0x2100 label+0x100");
        assert_eq!(syms.describe(0x10), "0x10");
        assert_eq!(syms.describe_return(0x1010), "0x1010 a+0x10");
        assert_eq!(syms.address_of("label"), Some(0x2000));
        assert_eq!(syms.address_of("nope"), None);
        let built = Symbols::from_entries([
            (0x2000, 0, "label".into()),
            (0x1000, 0x10, "a".into()),
            (0x1010, 0, "a_end".into()),
            (0x1010, 0x8, "b".into()),
        ]);
        assert_eq!(built.describe(0x1004), "0x1004 a+0x4");
        assert_eq!(built.address_of("label"), Some(0x2000));
        // A label where another symbol starts names nothing but is found.
        assert_eq!(built.describe(0x1012), "0x1012 b+0x2");
        assert_eq!(built.address_of("a_end"), Some(0x1010));
    }

    #[test]
    fn garbage_gives_an_empty_table() {
        assert!(Symbols::from_elf(b"not an elf").is_empty());
    }
}
