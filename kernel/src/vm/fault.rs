//! `vm_try_handle_fault`: classifies every page fault of a user access (taken
//! in user mode, or on behalf of a system call copying user memory) and
//! resolves the ones that are not errors by claiming the page.
use super::page::{Kind, Page};
use super::uninit::Initializer;
use super::{SpaceId, Vm, VmError};
use crate::profile::{self, FaultTimer, Stage};
use abi::layout::{PAGE_SIZE, USER_STACK, USER_STACK_MAX};

/// What a resolved fault was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// First touch of a zero-filled anonymous page.
    LazyAnon,
    /// First touch of an executable's page or a file mapping (reads the file),
    /// or a file page read again after eviction.
    LazyFile,
    /// An anonymous page read back from swap.
    SwapIn,
    /// A new stack page.
    StackGrowth,
    /// The page was already resident: the translations cached for it were
    /// stale and have been invalidated.
    Resident,
}

/// Why a fault is an invalid access (the process ends with `exit(-1)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invalid {
    /// A kernel address from user mode.
    KernelAddress,
    /// No page there, and not a stack access.
    NoPage,
    /// A write to a read-only page (copy-on-write would go here).
    ReadOnly,
    /// No frame could be had (user pool full, nothing evictable).
    OutOfMemory,
    /// Reading the page failed.
    Io,
}

/// Whether a fault at `addr` with user stack pointer `rsp` may grow the
/// stack: at or above `rsp - 8` (PUSH faults before moving rsp) and within
/// [`USER_STACK_MAX`] below [`USER_STACK`].
pub fn is_stack_growth(addr: u64, rsp: u64) -> bool {
    (USER_STACK - USER_STACK_MAX..USER_STACK).contains(&addr) && addr >= rsp.saturating_sub(8)
}

/// Handles a fault at `addr` in space `id` (`write`: the access was a write;
/// `present`: the page was mapped, so this is a protection fault).
pub(super) fn handle(
    vm: &mut Vm,
    id: SpaceId,
    addr: u64,
    write: bool,
    present: bool,
    user_rsp: u64,
    timer: &mut FaultTimer,
) -> Result<FaultKind, Invalid> {
    if !crate::mm::is_user_range(addr, 1) {
        return Err(Invalid::KernelAddress);
    }
    if present {
        // Mapped but not allowed: a write to a read-only page.
        return Err(Invalid::ReadOnly);
    }
    let va = addr & !(PAGE_SIZE - 1);
    let kind = match vm.space(id).spt.find(va) {
        None if is_stack_growth(addr, user_rsp) => {
            vm.space(id)
                .spt
                .insert(va, Page::new(true, Initializer::Zero))
                .map_err(|_| Invalid::OutOfMemory)?;
            FaultKind::StackGrowth
        }
        None => return Err(Invalid::NoPage),
        Some(page) if write && !page.writable => return Err(Invalid::ReadOnly),
        Some(page) if page.is_resident() => {
            // The page is mapped, yet the access faulted: a stale cached
            // translation. Invalidate them, or the access could fault again
            // forever (Linux's spurious-fault fix).
            vm.space(id).pt.flush_all();
            FaultKind::Resident
        }
        Some(page) => match &page.kind {
            Kind::Uninit(init) if init.reads_file() => FaultKind::LazyFile,
            Kind::Uninit(_) => FaultKind::LazyAnon,
            Kind::Anon(a) if a.slot.is_some() => FaultKind::SwapIn,
            Kind::Anon(_) => FaultKind::LazyAnon,
            Kind::File(_) => FaultKind::LazyFile,
        },
    };
    timer.stage(Stage::SptLookup);
    vm.claim(id, va, timer).map_err(|e| match e {
        VmError::OutOfMemory | VmError::SwapFull => Invalid::OutOfMemory,
        _ => Invalid::Io,
    })?;
    Ok(kind)
}

/// Records a handled fault in the fault profile (a no-op when it is off).
pub(super) fn record(timer: FaultTimer, result: Result<FaultKind, Invalid>, pid: u32, va: u64) {
    let kind = match result {
        Ok(FaultKind::LazyAnon) => profile::FaultKind::LazyAnon,
        Ok(FaultKind::LazyFile) => profile::FaultKind::LazyFile,
        Ok(FaultKind::SwapIn) => profile::FaultKind::SwapIn,
        Ok(FaultKind::StackGrowth) => profile::FaultKind::StackGrowth,
        // Nothing was done: not a fault worth a record.
        Ok(FaultKind::Resident) => return,
        Err(_) => profile::FaultKind::Invalid,
    };
    timer.finish(kind, pid, va);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stack_rule() {
        let rsp = USER_STACK - 0x2000;
        assert!(is_stack_growth(rsp - 8, rsp), "PUSH faults 8 below rsp");
        assert!(is_stack_growth(rsp + 100, rsp));
        assert!(!is_stack_growth(rsp - 9, rsp));
        assert!(!is_stack_growth(rsp - 4096, rsp), "pt-grow-bad");
        assert!(
            !is_stack_growth(USER_STACK, USER_STACK - 8),
            "above the stack"
        );
        let deep = USER_STACK - USER_STACK_MAX;
        assert!(is_stack_growth(deep, deep));
        assert!(!is_stack_growth(deep - 1, deep - 1), "past 1 MiB");
    }
}
