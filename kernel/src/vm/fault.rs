//! `vm_try_handle_fault`: classifies every page fault of a user access (taken
//! in user mode, or on behalf of a system call copying user memory) and
//! resolves the ones that are not errors: a first touch (the page gets its
//! SPT entry from its region, then is claimed), a swap-in, stack growth, a
//! write to a copy-on-write page, or a stale translation.
use super::addr::UserPage;
use super::hw::{Hw, Table};
use super::page::{Page, Source};
use super::region::Kind;
use super::space::Life;
use super::{SpaceId, Vm, VmError};
use crate::profile::{self, FaultTimer, Stage};
use abi::layout::{USER_STACK, USER_STACK_MAX};

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
    /// A write to a page shared copy-on-write.
    CopyOnWrite,
    /// The page was already mapped as needed: the translations cached for it
    /// were stale and have been invalidated.
    Resident,
}

/// Why a fault is an invalid access (the process ends with `exit(-1)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invalid {
    /// A kernel address from user mode.
    KernelAddress,
    /// No page there, and not a stack access.
    NoPage,
    /// A write to a read-only page.
    ReadOnly,
    /// An instruction fetch from a page that is not executable.
    NoExec,
    /// No memory for the page (the out-of-memory killer chose this process).
    OutOfMemory,
    /// Reading the page failed.
    Io,
    /// The out-of-memory killer reaped this process's memory.
    Killed,
}

/// The access that faulted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Access {
    /// A write.
    pub write: bool,
    /// An instruction fetch.
    pub fetch: bool,
}

/// Whether a fault at `addr` with user stack pointer `rsp` may grow the
/// stack: at or above `rsp - 8` (PUSH faults before moving rsp) and within
/// [`USER_STACK_MAX`] below [`USER_STACK`].
pub fn is_stack_growth(addr: u64, rsp: u64) -> bool {
    (USER_STACK - USER_STACK_MAX..USER_STACK).contains(&addr) && addr >= rsp.saturating_sub(8)
}

impl<H: Hw> Vm<H> {
    /// Handles a fault at `addr` in space `id` by an access `access`, with
    /// the user stack pointer `user_rsp` (for the stack rule).
    pub(super) fn handle_fault(
        &mut self,
        id: SpaceId,
        addr: u64,
        access: Access,
        user_rsp: u64,
        timer: &mut FaultTimer,
    ) -> Result<FaultKind, Invalid> {
        let page = UserPage::containing(addr).ok_or(Invalid::KernelAddress)?;
        let space = self.space_mut(id).map_err(|_| Invalid::Killed)?;
        if space.life == Life::Dead {
            return Err(Invalid::Killed);
        }
        let mut grew = false;
        let prot = match space.spt.find(page) {
            Some(entry) => entry.prot,
            None => {
                let region = space.regions.find(page).ok_or(Invalid::NoPage)?;
                if matches!(region.kind, Kind::Stack) && !is_stack_growth(addr, user_rsp) {
                    return Err(Invalid::NoPage);
                }
                grew = matches!(region.kind, Kind::Stack);
                region.prot(page)
            }
        };
        if access.write && !prot.write {
            return Err(Invalid::ReadOnly);
        }
        if access.fetch && !prot.exec {
            return Err(Invalid::NoExec);
        }
        if !space.spt.contains(page) {
            let file = space.regions.find(page).is_some_and(|r| r.is_file_backed());
            space
                .spt
                .insert(page, Page::lazy(prot, file))
                .map_err(|_| Invalid::OutOfMemory)?;
        }
        let entry = space.spt.find(page).ok_or(Invalid::NoPage)?;
        timer.stage(Stage::Lookup);
        if let Some(res) = entry.resident() {
            let pte = space.pt.lookup(page);
            if access.write && pte.is_some_and(|p| !p.write) {
                self.copy_on_write(id, page, timer).map_err(invalid)?;
                return Ok(FaultKind::CopyOnWrite);
            }
            if pte.is_none() {
                // In memory but not mapped (no path leaves a page so, but a
                // fault must never loop): map it again, read-only if shared.
                let frame = res.frame.id();
                let prot = if self.frames.shares(frame) > 1 {
                    prot.read_only()
                } else {
                    prot
                };
                let pa = self.frames.pa(frame);
                let space = self.space_mut(id).map_err(|_| Invalid::Killed)?;
                space
                    .pt
                    .map(page, pa, prot)
                    .map_err(|_| Invalid::OutOfMemory)?;
                return Ok(FaultKind::Resident);
            }
            // Mapped as needed, yet the access faulted: a stale cached
            // translation. Invalidate it, or the access could fault again
            // forever (Linux's spurious-fault fix).
            space.pt.flush(page);
            return Ok(FaultKind::Resident);
        }
        let kind = match entry.fill_source() {
            Source::Swap(_) => FaultKind::SwapIn,
            Source::Origin if grew => FaultKind::StackGrowth,
            Source::Origin if space.regions.find(page).is_some_and(|r| r.reads_file(page)) => {
                FaultKind::LazyFile
            }
            Source::Origin => FaultKind::LazyAnon,
        };
        self.claim(id, page, timer).map_err(invalid)?;
        Ok(kind)
    }
}

/// The invalid access a failed claim amounts to.
fn invalid(e: VmError) -> Invalid {
    match e {
        VmError::OutOfMemory => Invalid::OutOfMemory,
        VmError::Killed => Invalid::Killed,
        VmError::NoPage => Invalid::NoPage,
        VmError::Io => Invalid::Io,
    }
}

/// Records a handled fault in the fault profile (a no-op when it is off).
pub(super) fn record(timer: FaultTimer, result: Result<FaultKind, Invalid>, pid: u32, va: u64) {
    let kind = match result {
        Ok(FaultKind::LazyAnon) => profile::FaultKind::LazyAnon,
        Ok(FaultKind::LazyFile) => profile::FaultKind::LazyFile,
        Ok(FaultKind::SwapIn) => profile::FaultKind::SwapIn,
        Ok(FaultKind::StackGrowth) => profile::FaultKind::StackGrowth,
        Ok(FaultKind::CopyOnWrite) => profile::FaultKind::CopyOnWrite,
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
