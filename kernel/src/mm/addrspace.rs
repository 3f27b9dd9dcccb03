//! A process's user address space: its page tables and the user frames they
//! map. Pages are resident from the moment they are added (the VM subsystem
//! replaces this with demand paging behind the same interface).
use super::{palloc, phys_to_virt};
use crate::arch::paging::{Mapping, PageTable};
use abi::layout::{PAGE_SIZE, USER_LIMIT, USER_STACK, USER_STACK_MAX};

/// Whether a fault at `addr` with user stack pointer `rsp` is a stack access
/// the stack may grow for: at or above `rsp - 8` (PUSH faults before moving
/// rsp) and within [`USER_STACK_MAX`] below [`USER_STACK`].
pub fn is_stack_growth(addr: u64, rsp: u64) -> bool {
    (USER_STACK - USER_STACK_MAX..USER_STACK).contains(&addr) && addr >= rsp.saturating_sub(8)
}

/// Out of user frames or page-table memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutOfMemory;

impl From<crate::arch::paging::OutOfMemory> for OutOfMemory {
    fn from(_: crate::arch::paging::OutOfMemory) -> Self {
        OutOfMemory
    }
}

#[derive(Debug)]
pub struct AddressSpace {
    pt: PageTable,
}

/// Whether `[va, va + len)` lies in user space without wrapping.
pub fn is_user_range(va: u64, len: u64) -> bool {
    va.checked_add(len).is_some_and(|end| end <= USER_LIMIT)
}

impl AddressSpace {
    pub fn new() -> Result<AddressSpace, OutOfMemory> {
        Ok(AddressSpace {
            pt: PageTable::new()?,
        })
    }

    /// Token for `arch::switch_address_space`.
    pub fn token(&self) -> u64 {
        self.pt.token()
    }

    /// Loads this address space.
    pub fn activate(&self) {
        self.pt.activate();
    }

    /// Adds a zeroed, resident page at `va` (page-aligned, user); returns its frame.
    pub fn add_page(&mut self, va: u64, writable: bool) -> Result<u64, OutOfMemory> {
        debug_assert!(va.is_multiple_of(PAGE_SIZE) && is_user_range(va, PAGE_SIZE));
        if let Some(m) = self.pt.lookup(va) {
            if writable && !m.writable {
                self.pt.map(va, m.pa, true)?;
            }
            return Ok(m.pa);
        }
        let pa = palloc::alloc_user_page().ok_or(OutOfMemory)?;
        if let Err(e) = self.pt.map(va, pa, writable) {
            palloc::free_user_page(pa);
            return Err(e.into());
        }
        Ok(pa)
    }

    /// Changes the writability of a mapped page.
    pub fn set_writable(&mut self, va: u64, writable: bool) -> Result<(), OutOfMemory> {
        if let Some(m) = self.pt.lookup(va) {
            self.pt.map(va, m.pa, writable)?;
        }
        Ok(())
    }

    /// The mapping of the page holding `va`, if any.
    pub fn lookup(&self, va: u64) -> Option<Mapping> {
        if !is_user_range(va, 1) {
            return None;
        }
        self.pt.lookup(va)
    }

    /// The frame holding user address `va` for an access of the given kind.
    pub fn resolve(&mut self, va: u64, write: bool) -> Option<u64> {
        let m = self.lookup(va)?;
        (!write || m.writable).then_some(m.pa + va % PAGE_SIZE)
    }

    /// A copy of this address space with every page duplicated (eager fork).
    pub fn duplicate(&self) -> Result<AddressSpace, OutOfMemory> {
        let mut child = AddressSpace::new()?;
        let mut result = Ok(());
        self.pt.for_each_mapping(|va, m| {
            if result.is_err() {
                return;
            }
            result = child.add_page(va, m.writable).map(|pa| {
                // SAFETY: both frames are distinct, resident and reached through
                // the direct map; the child is not running.
                unsafe {
                    core::ptr::copy_nonoverlapping(
                        phys_to_virt(m.pa) as *const u8,
                        phys_to_virt(pa) as *mut u8,
                        PAGE_SIZE as usize,
                    )
                }
            });
        });
        result.map(|_| child)
    }
}

impl Drop for AddressSpace {
    /// Frees every user frame; the page tables go with `PageTable`'s drop.
    fn drop(&mut self) {
        let mut frames = alloc::vec::Vec::new();
        self.pt.for_each_mapping(|_, m| frames.push(m.pa));
        for pa in frames {
            palloc::free_user_page(pa);
        }
    }
}
