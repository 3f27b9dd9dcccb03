//! Virtual memory (Pintos project 3): address spaces ([`space`]) made of
//! regions ([`region`]: an executable's segments, the stack, file mappings)
//! whose pages get a supplemental page table entry ([`spt`], [`page`]) on
//! first touch; lazy UNINIT pages ([`uninit`]) become anonymous ([`anon`]) or
//! file-backed ([`file`]) pages on their first fault ([`fault`], [`claim`]);
//! a frame table with share counts and a reverse map ([`frame`]) and a clock
//! ([`clock`]) choose what to evict ([`evict`]) to a swap disk ([`swap`]),
//! where a page read back keeps its slot while clean ([`swap_cache`]);
//! `fork` shares frames copy-on-write ([`fork`], [`cow`]); exit and exec tear
//! a space down ([`teardown`]); `mmap`/`munmap` ([`mmap`]); and when memory
//! runs out for good, a process is chosen and killed ([`oom`]).
//!
//! The policy is written against the machine traits of [`hw`], so it runs
//! on the host in unit tests ([`tests`]) as it runs in the kernel
//! ([`kernel_hw`], and [`api`] for the entry points the rest of the kernel
//! calls).
//!
//! Locking: one sleeping lock ([`api`]'s `VM`) guards the whole [`Vm`]:
//! every space's SPT and page table, the frame table and the swap table, so
//! eviction may touch any process's pages. It is held across disk I/O; the
//! file system is only ever entered with it held, never the other way round.
pub mod addr;
pub mod anon;
pub mod api;
pub mod claim;
pub mod clock;
pub mod cow;
pub mod evict;
pub mod fault;
pub mod file;
pub mod fork;
pub mod frame;
pub mod hw;
pub mod kernel_hw;
pub mod mmap;
pub mod oom;
pub mod page;
pub mod read_ahead;
pub mod region;
pub mod rmap;
pub mod space;
pub mod spt;
pub mod swap;
pub mod swap_cache;
pub mod teardown;
pub mod uninit;

#[cfg(test)]
mod fake;
#[cfg(test)]
mod read_ahead_tests;
#[cfg(test)]
mod swap_cache_tests;
#[cfg(test)]
mod swap_io_tests;
#[cfg(test)]
mod tests;

pub use addr::{PageRef, PhysAddr, SpaceId, SwapSlot, UserPage};
pub use api::*;

use frame::{Frame, FrameTable};
use hw::Hw;
use page::Page;
use space::{Life, Space};
use swap::{SlotShare, Swap};

/// Most pages evicted together when the user pool runs dry: their swap
/// writes go to consecutive slots in one disk request. Every request is an
/// exit to the VMM, the costliest event on a PVM host (~120K cycles measured
/// by the minimal guest), so batches are as large as the pool allows
/// (`evict.rs`: a sixteenth of the pool, at least [`EVICT_BATCH_MIN`]).
pub const EVICT_BATCH: usize = 32;

/// The smallest eviction batch (small pools).
pub const EVICT_BATCH_MIN: usize = 8;

/// Most pages one swap-in reads: the faulting page and the pages of the same
/// space in the slots right after its own (written out together). Pages read
/// ahead go only into free frames (read-ahead never evicts).
pub const SWAP_READAHEAD: usize = 32;
/// Fewest pages a swap-in reads once faults look random (see `Space::swap_window`).
pub const SWAP_READAHEAD_MIN: usize = 4;

/// Why a VM operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VmError {
    /// No frame could be had (the user pool is full and nothing can be
    /// evicted, or the requester was chosen by the out-of-memory killer),
    /// or no kernel memory for a page table or an SPT entry.
    OutOfMemory,
    /// Disk or file I/O failed.
    Io,
    /// No such page (no SPT entry, no region).
    NoPage,
    /// The space was reaped by the out-of-memory killer (or does not exist).
    Killed,
}

impl From<crate::mm::OutOfMemory> for VmError {
    fn from(_: crate::mm::OutOfMemory) -> Self {
        VmError::OutOfMemory
    }
}

/// The VM state: every address space, the frame table, the swap table and
/// the memory-pressure tracker, over the machine `H`.
pub struct Vm<H: Hw> {
    /// The machine: frames, page tables, swap and file I/O.
    pub hw: H,
    spaces: alloc::vec::Vec<Option<Space<H::Table>>>,
    frames: FrameTable,
    swap: Swap,
    pressure: oom::Pressure,
    /// Pages were read from swap since the swap cache was last dropped
    /// whole: some resident page may hold a cached slot (a full swap disk
    /// walks every page only then).
    cache_filled: bool,
}

impl<H: Hw> Vm<H> {
    /// A VM over `hw` whose user pool is `frames` frames from `base`.
    pub fn new(hw: H, base: PhysAddr, frames: usize) -> Vm<H> {
        let swap = Swap::new(hw.swap_slots(), hw.table_budget());
        Vm {
            hw,
            spaces: alloc::vec::Vec::new(),
            frames: FrameTable::new(base, frames),
            swap,
            pressure: oom::Pressure::new(),
            cache_filled: false,
        }
    }

    /// The space `id`; `Killed` if there is none.
    fn space(&self, id: SpaceId) -> Result<&Space<H::Table>, VmError> {
        self.spaces
            .get(id.0 as usize)
            .and_then(Option::as_ref)
            .ok_or(VmError::Killed)
    }

    fn space_mut(&mut self, id: SpaceId) -> Result<&mut Space<H::Table>, VmError> {
        self.spaces
            .get_mut(id.0 as usize)
            .and_then(Option::as_mut)
            .ok_or(VmError::Killed)
    }

    /// The SPT entry `r` names.
    fn page(&self, r: PageRef) -> Option<&Page> {
        self.space(r.space).ok()?.spt.find(r.page)
    }

    fn page_mut(&mut self, r: PageRef) -> Option<&mut Page> {
        self.space_mut(r.space).ok()?.spt.find_mut(r.page)
    }

    /// A new, empty space (`Building`) for process `pid` named `name`.
    /// `OutOfMemory` when no page table or table slot can be had.
    pub fn new_space(&mut self, pid: u32, name: &[u8]) -> Result<SpaceId, VmError> {
        let pt = self.hw.new_table()?;
        let space = Space::new(pid, name, pt);
        if let Some(i) = self.spaces.iter().position(Option::is_none) {
            self.spaces[i] = Some(space);
            return Ok(SpaceId(i as u32));
        }
        crate::mm::fallible::try_push(&mut self.spaces, Some(space))?;
        Ok(SpaceId(self.spaces.len() as u32 - 1))
    }

    /// Marks a built space as running (a candidate for the OOM killer).
    pub fn activate(&mut self, id: SpaceId) -> Result<(), VmError> {
        let space = self.space_mut(id)?;
        if space.life == Life::Building {
            space.life = Life::Live;
        }
        Ok(())
    }

    /// Whether the space was reaped by the out-of-memory killer.
    pub fn is_dead(&self, id: SpaceId) -> bool {
        self.space(id).is_ok_and(|s| s.life == Life::Dead)
    }

    /// The token of the space's page table.
    pub fn token(&self, id: SpaceId) -> Result<u64, VmError> {
        use hw::Table;
        Ok(self.space(id)?.pt.token())
    }

    /// (frames holding pages, swap slots in use): what the leak check and
    /// the host tests compare with zero.
    pub fn usage(&self) -> (usize, u32) {
        (self.frames.in_use(), self.swap.usage().0)
    }

    /// (swap slots in use, swap slots in total).
    pub fn swap_usage(&self) -> (u32, u32) {
        self.swap.usage()
    }
}

/// Reports a VM bookkeeping bug: a panic in the host tests, a console line
/// in the kernel (which fails any test judging the output; the kernel goes
/// on, having leaked what was dropped).
pub fn report_bug(what: &str) {
    if cfg!(test) {
        // A failing test unwinds through values that were never released:
        // report only the first failure.
        #[cfg(test)]
        if std::thread::panicking() {
            return;
        }
        panic!("VM bug: {what}");
    } else {
        crate::kprintln!("faultline: BUG: {what}");
    }
}

/// Leaks a frame share that a state change would otherwise drop (a bug).
pub(crate) fn leak_frame(frame: Frame) {
    core::mem::forget(frame);
    report_bug("a frame share was overwritten");
}

/// Leaks a slot share that a state change would otherwise drop (a bug).
pub(crate) fn leak_slot(slot: SlotShare) {
    core::mem::forget(slot);
    report_bug("a swap-slot share was overwritten");
}
