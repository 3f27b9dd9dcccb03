//! Regions: the address ranges a process may use and where their pages come
//! from. An executable's segments, the stack and each `mmap` are one region
//! each, described once; the SPT gets an entry for a page only when it is
//! first touched, so kernel memory grows with touched pages, not mapped ones.
use super::addr::UserPage;
use super::file::{Backing, Mapping};
use super::hw::Prot;
use crate::mm::{OutOfMemory, fallible};
use crate::userprog::elf::ElfImage;
use abi::layout::{USER_STACK, USER_STACK_MAX};
use alloc::sync::Arc;
use alloc::vec::Vec;

/// A loaded executable: its file and its validated segments.
pub struct Image {
    /// The executable, open with writes denied.
    pub file: Arc<dyn Backing>,
    /// Its entry point and segments.
    pub elf: ElfImage,
}

/// Where a region's pages come from.
#[derive(Clone)]
pub enum Kind {
    /// A run of pages an executable's segments touch: anonymous pages whose
    /// first contents are the file's bytes and zeros, with the union of the
    /// rights of the segments on each page.
    Image(Arc<Image>),
    /// The user stack: anonymous zero pages, made by the stack-growth rule.
    Stack,
    /// A file mapping: file-backed pages.
    Mmap(Arc<Mapping>),
}

/// One region: pages `start..end` and their source.
#[derive(Clone)]
pub struct Region {
    /// The first page.
    pub start: UserPage,
    /// The page after the last.
    pub end: UserPage,
    /// Where the pages come from.
    pub kind: Kind,
}

impl Region {
    /// The stack region, `[USER_STACK - USER_STACK_MAX, USER_STACK)`.
    pub fn stack() -> Region {
        Region {
            start: UserPage::from_number(((USER_STACK - USER_STACK_MAX) >> 12) as u32),
            end: UserPage::from_number((USER_STACK >> 12) as u32),
            kind: Kind::Stack,
        }
    }

    /// Whether `page` is one of the region's.
    pub fn contains(&self, page: UserPage) -> bool {
        (self.start..self.end).contains(&page)
    }

    /// The rights of `page` (one of this region's).
    pub fn prot(&self, page: UserPage) -> Prot {
        match &self.kind {
            Kind::Stack => Prot::RW,
            Kind::Mmap(m) => Prot {
                write: m.writable,
                exec: false,
            },
            Kind::Image(image) => image.elf.plan_page(page.addr()).map_or(Prot::RO, |p| Prot {
                write: p.writable,
                exec: p.executable,
            }),
        }
    }

    /// Whether the region's pages are file-backed (written back, never swapped).
    pub fn is_file_backed(&self) -> bool {
        matches!(self.kind, Kind::Mmap(_))
    }

    /// Whether a first fault on `page` reads a file (else it zero-fills).
    pub fn reads_file(&self, page: UserPage) -> bool {
        match &self.kind {
            Kind::Stack => false,
            Kind::Mmap(m) => m.page_bytes(page.number() - self.start.number()).1 > 0,
            Kind::Image(image) => image
                .elf
                .plan_page(page.addr())
                .is_some_and(|p| !p.parts.is_empty()),
        }
    }
}

/// Most regions one space may have (like Linux's `vm.max_map_count`): the
/// list is kept sorted, so this bounds the cost of adding one.
pub const MAX_REGIONS: usize = 4096;

/// Why a region could not be added.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegionError {
    /// It overlaps a region already there.
    Overlap,
    /// The space has [`MAX_REGIONS`] already, or the list cannot grow.
    OutOfMemory,
}

/// A space's regions, sorted by address, pairwise disjoint.
#[derive(Default)]
pub struct Regions {
    list: Vec<Region>,
}

impl Regions {
    /// No region.
    pub const fn new() -> Regions {
        Regions { list: Vec::new() }
    }

    /// The region holding `page`.
    pub fn find(&self, page: UserPage) -> Option<&Region> {
        let i = self.list.partition_point(|r| r.end <= page);
        self.list.get(i).filter(|r| r.contains(page))
    }

    /// Whether any region shares a page with `start..end`.
    pub fn overlaps(&self, start: UserPage, end: UserPage) -> bool {
        let i = self.list.partition_point(|r| r.end <= start);
        self.list.get(i).is_some_and(|r| r.start < end)
    }

    /// Adds `region` (non-empty): `Overlap` if it shares a page with
    /// another, `OutOfMemory` past [`MAX_REGIONS`] or without memory.
    pub fn insert(&mut self, region: Region) -> Result<(), RegionError> {
        if region.start >= region.end || self.overlaps(region.start, region.end) {
            return Err(RegionError::Overlap);
        }
        if self.list.len() >= MAX_REGIONS {
            return Err(RegionError::OutOfMemory);
        }
        fallible::try_reserve(&mut self.list, 1).map_err(|_| RegionError::OutOfMemory)?;
        let i = self.list.partition_point(|r| r.end <= region.start);
        self.list.insert(i, region);
        Ok(())
    }

    /// Removes the file mapping that starts at `start`, if there is one.
    pub fn remove_mmap(&mut self, start: UserPage) -> Option<Region> {
        let i = self
            .list
            .iter()
            .position(|r| r.start == start && r.is_file_backed())?;
        Some(self.list.remove(i))
    }

    /// A copy for a forked child, or `OutOfMemory`.
    pub fn try_clone(&self) -> Result<Regions, OutOfMemory> {
        let mut list = fallible::try_vec(self.list.len())?;
        list.extend(self.list.iter().cloned());
        Ok(Regions { list })
    }

    /// Removes every region.
    pub fn clear(&mut self) {
        self.list = Vec::new();
    }

    /// The regions, by address.
    pub fn iter(&self) -> impl Iterator<Item = &Region> {
        self.list.iter()
    }
}
