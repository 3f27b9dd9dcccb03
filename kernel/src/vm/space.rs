//! One address space: its page table, SPT and regions, the process it
//! belongs to, and where it is in its life. A space is created empty
//! (`Building`) for `exec`'s load or `fork`'s copy, runs (`Live`), may be
//! reaped by the out-of-memory killer (`Dead`: emptied, every fault fails)
//! and is finally destroyed with its process.
use super::addr::UserPage;
use super::hw::Table;
use super::region::Regions;
use super::spt::Spt;

/// Where a space is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Life {
    /// Being loaded or copied; not yet a candidate for the OOM killer.
    Building,
    /// Its process runs.
    Live,
    /// Reaped by the out-of-memory killer: no pages, every fault fails.
    Dead,
}

/// One process's address space.
pub struct Space<T> {
    /// The owning process (for the fault profile and the OOM message).
    pub pid: u32,
    /// The program name (for the OOM message).
    pub name: [u8; 16],
    /// Being built, live, or reaped.
    pub life: Life,
    /// Its hardware page table.
    pub pt: T,
    /// Its supplemental page table: every page touched so far.
    pub spt: Spt,
    /// Its regions: executable, stack and file mappings.
    pub regions: super::region::Regions,
    /// The page of its last fault served from swap: a fault just below it
    /// reads ahead downwards (an array read backwards).
    pub last_swap_in: Option<UserPage>,
    /// Pages a swap-in may read, read-ahead included: doubled (up to
    /// `SWAP_READAHEAD`) by each fault near the last one, halved (down to
    /// `SWAP_READAHEAD_MIN`) by each fault elsewhere (random access, where
    /// pages read ahead go unused and take frames other pages need).
    pub swap_window: u8,
}

impl<T: Table> Space<T> {
    /// An empty space being built for process `pid` named `name`.
    pub fn new(pid: u32, name: &[u8], pt: T) -> Space<T> {
        Space {
            pid,
            name: crate::sched::thread_name(name),
            life: Life::Building,
            pt,
            spt: Spt::new(),
            regions: Regions::new(),
            last_swap_in: None,
            swap_window: super::SWAP_READAHEAD as u8,
        }
    }

    /// The page's rights and kind as its region gives them, for a page that
    /// has no SPT entry yet: `None` outside every region.
    pub fn region_of(&self, page: UserPage) -> Option<&super::region::Region> {
        self.regions.find(page)
    }

    /// The name as text.
    pub fn name(&self) -> &[u8] {
        let len = self.name.iter().position(|&b| b == 0).unwrap_or(16);
        &self.name[..len]
    }
}
