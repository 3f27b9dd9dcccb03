//! What the VM needs from the machine, as traits: user frames and their
//! bytes, one page table per address space, the swap disk, TLB flushes and
//! the console line that reports an out-of-memory kill. The kernel
//! implements them over the real hardware ([`super::kernel_hw`]); the host
//! unit tests implement them over plain memory, so the whole VM policy
//! (claim, eviction, fork, copy-on-write, teardown, mmap, out-of-memory) runs
//! without KVM.
use super::addr::{PhysAddr, SwapSlot, UserPage};
use crate::mm::OutOfMemory;

/// Access rights of a user page.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Prot {
    /// User writes are allowed.
    pub write: bool,
    /// Instruction fetches are allowed.
    pub exec: bool,
}

impl Prot {
    /// Read and write, no execute (stack, data, anonymous memory).
    pub const RW: Prot = Prot {
        write: true,
        exec: false,
    };
    /// Read only, no execute.
    pub const RO: Prot = Prot {
        write: false,
        exec: false,
    };

    /// The same rights without write (a copy-on-write mapping).
    pub const fn read_only(self) -> Prot {
        Prot {
            write: false,
            exec: self.exec,
        }
    }
}

/// A present page-table entry as the hardware left it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pte {
    /// The frame it maps.
    pub pa: PhysAddr,
    /// Writable.
    pub write: bool,
    /// The CPU's accessed bit.
    pub accessed: bool,
    /// The CPU's dirty bit.
    pub dirty: bool,
}

/// A disk request failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IoError;

/// One address space's page table. None of these methods invalidates cached
/// translations: callers change entries, then call [`Hw::flush_all`] once.
pub trait Table {
    /// Maps `page` to frame `pa` with `prot`; `OutOfMemory` when a
    /// page-table page cannot be had (nothing changes then).
    fn map(&mut self, page: UserPage, pa: PhysAddr, prot: Prot) -> Result<(), OutOfMemory>;
    /// Removes the entry of `page` and returns what it was (`None`: not present).
    fn clear(&mut self, page: UserPage) -> Option<Pte>;
    /// The present entry of `page`.
    fn lookup(&self, page: UserPage) -> Option<Pte>;
    /// Invalidates the cached translations of `page` at once (for an entry
    /// whose change must take effect before the faulting access retries).
    fn flush(&mut self, page: UserPage);
    /// Clears the accessed bit of `page`; returns whether it was set.
    fn test_and_clear_accessed(&mut self, page: UserPage) -> bool;
    /// Whether this is the address space loaded now.
    fn is_loaded(&self) -> bool;
    /// A token naming the table for `arch::switch_address_space`.
    fn token(&self) -> u64;
}

/// The machine under the VM.
pub trait Hw {
    /// The machine's user page table.
    type Table: Table;

    /// A new, empty user page table, or `OutOfMemory`.
    fn new_table(&mut self) -> Result<Self::Table, OutOfMemory>;
    /// Takes a free frame of the user pool: its address and whether it is
    /// known to hold only zeros. `None` when the pool is empty.
    fn alloc_frame(&mut self) -> Option<(PhysAddr, bool)>;
    /// Frames of the user pool not in use.
    fn free_frames(&self) -> usize;
    /// Returns a frame to the user pool.
    fn free_frame(&mut self, pa: PhysAddr);
    /// The bytes of a frame.
    fn frame(&mut self, pa: PhysAddr) -> &mut [u8];
    /// Copies frame `src` into frame `dst`.
    fn copy_frame(&mut self, dst: PhysAddr, src: PhysAddr);
    /// Slots on the swap disk (0: no swap disk).
    fn swap_slots(&self) -> u32;
    /// Bytes of kernel memory the VM may spend on its boot-time tables (the
    /// swap table): a share of what is free, so a huge swap disk cannot
    /// leave the kernel without memory.
    fn table_budget(&self) -> usize;
    /// Reads each `(slot, frame)` pair's slot into its frame: one disk
    /// request per run of consecutive slots (pairs sorted by slot make the
    /// fewest), all sent with one notification (one exit to the VMM) where
    /// the queue holds them. `IoError` when any fails (the frames' bytes
    /// are then undefined).
    fn swap_read(&mut self, pages: &[(SwapSlot, PhysAddr)]) -> Result<(), IoError>;
    /// Writes each pair's frame to its slot, as [`Hw::swap_read`] reads
    /// them. `IoError` when any fails (the slots' bytes are then undefined).
    fn swap_write(&mut self, pages: &[(SwapSlot, PhysAddr)]) -> Result<(), IoError>;
    /// Invalidates the cached translations of the address spaces whose
    /// entries changed (`loaded`: the loaded one is among them). Where only
    /// the loaded space can be cached (the native mode) nothing is needed
    /// otherwise; the PVM hypervisor may cache any space, so it always flushes.
    fn flush_all(&mut self, loaded: bool);
    /// Tells the user that process `pid` (`name`) is being killed for lack of
    /// memory; `swap` (slots in use, slots in total) lets it hint at `--swap`.
    fn report_oom_kill(&mut self, pid: u32, name: &[u8], swap: (u32, u32));
}
