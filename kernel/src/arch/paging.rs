//! x86-64 4-level page tables: per-address-space top-level tables, user
//! mappings, translation and TLB maintenance.
//!
//! Every address space owns an 8 KiB-aligned pair of top-level tables: the
//! kernel half (loaded into CR3) maps kernel and user space; the user half
//! (+4 KiB) mirrors only PML4 slots 0..256, as the PVM guest mode requires (the
//! native mode leaves it unused). The kernel half's slots 256..512 are copied from
//! the boot tables, so all address spaces share the kernel's lower-level tables.
mod spare;

pub use spare::{frames as spare_frames, release_all as release_spares};

use super::cpu;
use crate::mm::{palloc, phys_to_virt};
use core::sync::atomic::{AtomicU64, Ordering};

use abi::layout::pte::{
    ACCESSED as PTE_A, ADDR_MASK, DIRTY as PTE_D, HUGE as PTE_PS, NO_EXECUTE as PTE_NX,
    PRESENT as PTE_P, USER as PTE_U, WRITABLE as PTE_W,
};
const ENTRIES: usize = 512;
const USER_SLOTS: usize = 256;

/// The page-table pair of the kernel's own address space.
static KERNEL_ROOT: AtomicU64 = AtomicU64::new(0);
/// The pair currently loaded.
static ACTIVE_ROOT: AtomicU64 = AtomicU64::new(0);
/// The boot tables the VMM built (kernel half).
static BOOT_ROOT: AtomicU64 = AtomicU64::new(0);

/// Out of kernel frames for page tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutOfMemory;

/// What a user virtual page maps to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mapping {
    /// The physical address of the frame.
    pub pa: u64,
    /// Whether user writes are allowed.
    pub writable: bool,
    /// The CPU's accessed bit: the page was read or written since it was cleared.
    pub accessed: bool,
    /// The CPU's dirty bit: the page was written since it was cleared.
    pub dirty: bool,
}

fn table(pa: u64) -> &'static mut [u64; ENTRIES] {
    // SAFETY: page-table pages are kernel-pool frames reached through the direct
    // map; callers hold the owning address space (the kernel is single-CPU and
    // page-table updates of one space are serialized by its owner).
    unsafe { &mut *(phys_to_virt(pa) as *mut [u64; ENTRIES]) }
}

fn index(va: u64, level: u32) -> usize {
    ((va >> (12 + 9 * level)) & 0x1ff) as usize
}

/// Records the boot tables (called from `arch::init`).
pub fn set_boot_root(pa: u64) {
    BOOT_ROOT.store(pa, Ordering::Relaxed);
}

/// Builds the kernel's own top-level pair from the boot tables and loads it.
pub fn init_kernel_root() {
    let pair =
        palloc::alloc_kernel_pages_aligned(2, 2).expect("no memory for the kernel page table");
    let boot = table(BOOT_ROOT.load(Ordering::Relaxed));
    let k = table(pair);
    k[USER_SLOTS..].copy_from_slice(&boot[USER_SLOTS..]);
    KERNEL_ROOT.store(pair, Ordering::Relaxed);
    activate_root(pair);
}

fn activate_root(pa: u64) {
    if ACTIVE_ROOT.swap(pa, Ordering::Relaxed) != pa {
        cpu::write_cr3(pa);
    }
}

/// Loads the address space named by a [`PageTable::token`].
pub fn activate_token(token: u64) {
    activate_root(token);
}

/// Switches to the kernel's own address space (for kernel threads).
pub fn activate_kernel() {
    activate_root(KERNEL_ROOT.load(Ordering::Relaxed));
}

/// Invalidates the cached user translations after entries changed in some
/// address spaces (`loaded`: the loaded one among them): one hypercall in the
/// PVM guest mode (which also drops the hypervisor's shadow entries of spaces
/// not loaded); in the native mode a CR3 reload if `loaded`, else nothing:
/// only the loaded space can have cached translations there (no PCIDs, and
/// user pages are never global).
pub fn flush_all(loaded: bool) {
    if super::mode() == super::Mode::Pvm {
        super::exits::count(super::exits::Op::FlushAll);
        super::pvm::hypercall(super::pvm::HC_FLUSH_ALL, 0, 0, 0);
    } else if loaded {
        // Counted as the CR3 load it is.
        cpu::write_cr3(ACTIVE_ROOT.load(Ordering::Relaxed));
    }
}

/// A user address space's page tables.
#[derive(Debug)]
pub struct PageTable {
    root: u64,
}

impl PageTable {
    /// A new address space with the kernel mapped and no user pages.
    /// Fails with `OutOfMemory` when the kernel cannot spare the two
    /// top-level pages (a user-driven allocation: the reserve stays).
    pub fn new() -> Result<PageTable, OutOfMemory> {
        let kernel = table(KERNEL_ROOT.load(Ordering::Relaxed));
        if let Some(root) = spare::take() {
            // A spare tree (see `spare`): written only if the kernel's
            // top-level entries changed since (a write to a former page
            // table traps into the hypervisor).
            let top = table(root);
            if top[USER_SLOTS..] != kernel[USER_SLOTS..] {
                top[USER_SLOTS..].copy_from_slice(&kernel[USER_SLOTS..]);
            }
            return Ok(PageTable { root });
        }
        let root = crate::mm::alloc_charged_pages(2, 2).ok_or(OutOfMemory)?;
        table(root)[USER_SLOTS..].copy_from_slice(&kernel[USER_SLOTS..]);
        Ok(PageTable { root })
    }

    /// Loads this address space.
    pub fn activate(&self) {
        activate_root(self.root);
    }

    /// A token naming this address space for `arch::switch_address_space`.
    pub fn token(&self) -> u64 {
        self.root
    }

    /// Whether this address space is the one loaded now.
    pub fn is_active(&self) -> bool {
        ACTIVE_ROOT.load(Ordering::Relaxed) == self.root
    }

    /// The leaf entry for `va`, creating intermediate tables when `create`.
    fn walk(&self, va: u64, create: bool) -> Result<Option<&'static mut u64>, OutOfMemory> {
        let mut t = table(self.root);
        for level in (1..4).rev() {
            let i = index(va, level);
            if t[i] & PTE_P == 0 {
                if !create {
                    return Ok(None);
                }
                let pa = crate::mm::alloc_charged_pages(1, 1).ok_or(OutOfMemory)?;
                t[i] = pa | PTE_P | PTE_W | PTE_U;
                if level == 3 {
                    // Mirror the new top-level entry into the user half.
                    table(self.root + 4096)[i] = t[i];
                }
            } else if t[i] & PTE_PS != 0 {
                return Ok(None);
            }
            t = table(t[i] & ADDR_MASK);
        }
        Ok(Some(&mut t[index(va, 0)]))
    }

    /// Maps the user page at `va` to the frame `pa`, writable and
    /// executable as asked (no-execute otherwise). Replacing a present entry
    /// does not invalidate cached translations: the caller flushes.
    /// `OutOfMemory` when a page-table page cannot be had.
    pub fn map(
        &mut self,
        va: u64,
        pa: u64,
        writable: bool,
        executable: bool,
    ) -> Result<(), OutOfMemory> {
        let pte = self.walk(va, true)?.ok_or(OutOfMemory)?;
        *pte = pa
            | PTE_P
            | PTE_U
            | if writable { PTE_W } else { 0 }
            | if executable { 0 } else { PTE_NX };
        Ok(())
    }

    /// Removes the mapping of `va` without invalidating cached translations
    /// (the caller flushes with [`PageTable::flush_all`] once it is done).
    pub fn clear(&mut self, va: u64) -> Option<Mapping> {
        let pte = self.walk(va, false).ok()??;
        if *pte & PTE_P == 0 {
            return None;
        }
        let old = *pte;
        *pte = 0;
        Some(Mapping {
            pa: old & ADDR_MASK,
            writable: old & PTE_W != 0,
            accessed: old & PTE_A != 0,
            dirty: old & PTE_D != 0,
        })
    }

    /// Clears the accessed bit of `va` (for the clock); returns whether it was set.
    pub fn test_and_clear_accessed(&mut self, va: u64) -> bool {
        let Some(Some(pte)) = self.walk(va, false).ok() else {
            return false;
        };
        if *pte & PTE_P == 0 || *pte & PTE_A == 0 {
            return false;
        }
        *pte &= !PTE_A;
        // No invalidation, as Linux does on x86: a translation still cached
        // only keeps the hardware from setting the bit again until it is
        // dropped, which makes the page look older than it is; it can never
        // corrupt data (eviction clears the entry and flushes).
        true
    }

    /// Invalidates cached translations of `va` after a present entry changed.
    pub fn flush(&self, va: u64) {
        if self.is_active() {
            cpu::invlpg(va);
        } else if super::mode() == super::Mode::Pvm {
            // The hypervisor's shadow tables of a space that is not loaded
            // may still hold the entry.
            flush_all(false);
        }
    }

    /// The mapping of the user page containing `va`.
    pub fn lookup(&self, va: u64) -> Option<Mapping> {
        let pte = *self.walk(va, false).ok()??;
        (pte & PTE_P != 0).then_some(Mapping {
            pa: pte & ADDR_MASK,
            writable: pte & PTE_W != 0,
            accessed: pte & PTE_A != 0,
            dirty: pte & PTE_D != 0,
        })
    }
}

impl Drop for PageTable {
    /// Keeps the tables for the next address space if no user page is
    /// mapped any more (`spare`), else frees the user-half page-table pages
    /// and the top-level pair (not the frames the leaves map: their owner
    /// frees those first).
    fn drop(&mut self) {
        if self.is_active() {
            activate_kernel();
        }
        if !spare::keep(self.root) {
            spare::free_tree(self.root);
        }
    }
}
