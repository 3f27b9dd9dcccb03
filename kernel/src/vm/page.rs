//! A page of the supplemental page table: where its contents are and what kind
//! it is (Pintos `struct page` with its `uninit` / `anon` / `file` union).
use super::file::Mapping;
use super::uninit::Initializer;
use alloc::sync::Arc;

/// The kind of a page and the state its kind keeps.
#[derive(Debug, Clone)]
pub enum Kind {
    /// Never touched: turns into `Anon` or `File` on the first fault
    /// (`uninit_initialize`).
    Uninit(Initializer),
    /// Anonymous memory (stack, data, bss, heap): backed by swap when evicted.
    Anon(Anon),
    /// A page of a file mapping: backed by the file.
    File(FilePage),
}

/// State of an anonymous page.
#[derive(Debug, Clone, Default)]
pub struct Anon {
    /// Swap slot holding the contents while the page is not resident.
    pub slot: Option<u32>,
    /// How to rebuild the page while it has never been written (an
    /// executable's page can be dropped and read again instead of swapped).
    pub origin: Option<Initializer>,
}

/// State of a file-backed page.
#[derive(Debug, Clone)]
pub struct FilePage {
    pub mapping: Arc<Mapping>,
    /// Offset of the page in the file.
    pub offset: u64,
    /// Bytes of the page that come from the file (the rest reads as zeros and
    /// is never written back).
    pub read_bytes: u32,
    /// Modified relative to the file by the kernel itself (a fork copy of a
    /// dirty page), in addition to the hardware dirty bit.
    pub dirty: bool,
}

/// One page of a process's address space.
#[derive(Debug, Clone)]
pub struct Page {
    pub writable: bool,
    /// The frame holding the page while resident.
    pub frame: Option<u64>,
    pub kind: Kind,
}

impl Page {
    pub fn new(writable: bool, init: Initializer) -> Page {
        Page {
            writable,
            frame: None,
            kind: Kind::Uninit(init),
        }
    }

    pub fn is_resident(&self) -> bool {
        self.frame.is_some()
    }
}
