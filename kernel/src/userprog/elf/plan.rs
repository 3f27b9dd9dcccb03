//! The per-page load plan of a parsed executable: [`ElfImage::page_runs`]
//! gives the runs of pages its segments touch and [`ElfImage::plan_page`]
//! what one page must hold when it is first touched (file parts, zeroes,
//! permissions). Planning never allocates.

use abi::layout::PAGE_SIZE;

use super::{ElfImage, MAX_LOAD_SEGMENTS};

/// File bytes to copy into a page: `len` bytes from `file_offset` go to
/// `page_offset`; the rest of the page is zero.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PagePart {
    /// Where in the page the bytes go.
    pub page_offset: u16,
    /// Where in the file they come from.
    pub file_offset: u64,
    /// How many bytes.
    pub len: u16,
}

/// The file parts of one page, sorted by `page_offset` and disjoint: at most
/// one per segment, so a fixed array holds them (planning a page never
/// allocates).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PageParts {
    parts: [PagePart; MAX_LOAD_SEGMENTS],
    len: usize,
}

impl PageParts {
    /// The parts from a slice (at most [`MAX_LOAD_SEGMENTS`]; extra ones are dropped).
    pub fn from_slice(parts: &[PagePart]) -> PageParts {
        let mut p = PageParts::default();
        for &part in parts.iter().take(MAX_LOAD_SEGMENTS) {
            p.parts[p.len] = part;
            p.len += 1;
        }
        p
    }

    /// The parts, sorted by `page_offset`.
    pub fn as_slice(&self) -> &[PagePart] {
        &self.parts[..self.len]
    }

    /// Whether the page takes nothing from the file (all zeros).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// What one user page holds when it is first loaded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PagePlan {
    /// The page's address (page-aligned).
    pub va: u64,
    /// Whether any segment touching the page is writable.
    pub writable: bool,
    /// Whether any segment touching the page is executable.
    pub executable: bool,
    /// The file bytes of the page; empty for a page of zeros (`.bss`).
    pub parts: PageParts,
}

impl ElfImage {
    /// How many pages the segments touch (a page touched by two segments
    /// counts once).
    pub fn page_count(&self) -> u64 {
        self.page_runs()
            .map(|(start, end)| (end - start) / PAGE_SIZE)
            .sum()
    }

    /// The runs of consecutive pages the segments touch, as `(first page,
    /// end)` address pairs, sorted and disjoint: the executable's regions of
    /// the address space (pages between runs stay invalid).
    pub fn page_runs(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        let mut segments = self.segments.iter().peekable();
        core::iter::from_fn(move || {
            let first = segments.next()?;
            let start = page_down(first.vaddr);
            let mut end = page_up(first.vaddr.saturating_add(first.mem_size));
            // Sorted, disjoint segments: the next one joins the run when it
            // starts in the run's last page or right after it.
            while let Some(next) = segments.next_if(|s| page_down(s.vaddr) <= end) {
                end = end.max(page_up(next.vaddr.saturating_add(next.mem_size)));
            }
            Some((start, end))
        })
    }

    /// The load plan of the page at `va` (page-aligned), or `None` when no
    /// segment touches it.
    pub fn plan_page(&self, va: u64) -> Option<PagePlan> {
        let page_end = va.saturating_add(PAGE_SIZE);
        let mut plan = PagePlan {
            va,
            writable: false,
            executable: false,
            parts: PageParts::default(),
        };
        let mut touched = false;
        for segment in &self.segments {
            let end = segment.vaddr.saturating_add(segment.mem_size);
            if segment.vaddr >= page_end || end <= va {
                continue;
            }
            touched = true;
            plan.writable |= segment.writable;
            plan.executable |= segment.executable;
            let from = va.max(segment.vaddr);
            let to = page_end.min(segment.vaddr.saturating_add(segment.file_size));
            if from < to {
                // Segments are sorted by address, so parts come out sorted.
                plan.parts.parts[plan.parts.len] = PagePart {
                    page_offset: (from - va) as u16,
                    file_offset: segment.file_offset + (from - segment.vaddr),
                    len: (to - from) as u16,
                };
                plan.parts.len += 1;
            }
        }
        touched.then_some(plan)
    }
}

const fn page_down(addr: u64) -> u64 {
    addr & !(PAGE_SIZE - 1)
}

const fn page_up(addr: u64) -> u64 {
    page_down(addr.saturating_add(PAGE_SIZE - 1))
}
