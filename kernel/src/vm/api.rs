//! The VM's entry points for the rest of the kernel: the one [`Vm`] over
//! the real machine behind its sleeping lock, address spaces as handles that
//! tear themselves down ([`AddressSpace`]), and the fault, user-access,
//! load, fork and mmap calls. Every call takes the lock for its whole run.
use super::fault::{self, Access, FaultKind, Invalid};
use super::file::Backing;
use super::hw::{Hw, Table};
use super::kernel_hw::KernelHw;
use super::mmap::{MmapArgs, MmapError};
use super::page::Page;
use super::region::{Image, Kind, Region};
use super::{SpaceId, UserPage, Vm, VmError};
use crate::profile::FaultTimer;
use crate::sync::{Mutex, MutexGuard};
use alloc::sync::Arc;
use core::sync::atomic::{AtomicU64, Ordering};

static VM: Mutex<Option<Vm<KernelHw>>> = Mutex::new(None);

/// Sets up the VM over the user pool and the swap disk (boot time; panics
/// if called twice).
pub fn init() {
    let (base, count) = crate::mm::palloc::user_pool();
    let hw = KernelHw::new(crate::dev::swap_disk()).expect("the VM is set up once");
    let disk_slots = hw.swap_slots();
    let vm = Vm::new(hw, super::PhysAddr::new(base), count);
    let (_, slots) = vm.swap_usage();
    if slots < disk_slots {
        crate::kprintln!(
            "faultline: swap: using {} of the swap disk's {} MiB: its table would not fit in kernel memory (a larger --mem raises the limit)",
            slots as u64 * 4 / 1024,
            disk_slots as u64 * 4 / 1024
        );
    }
    *VM.lock() = Some(vm);
}

/// The VM, locked. Panics before [`init`] (a boot-order bug).
fn lock() -> impl core::ops::DerefMut<Target = Vm<KernelHw>> {
    struct Locked(MutexGuard<'static, Option<Vm<KernelHw>>>);
    impl core::ops::Deref for Locked {
        type Target = Vm<KernelHw>;
        fn deref(&self) -> &Vm<KernelHw> {
            self.0.as_ref().expect("VM not initialized")
        }
    }
    impl core::ops::DerefMut for Locked {
        fn deref_mut(&mut self) -> &mut Vm<KernelHw> {
            self.0.as_mut().expect("VM not initialized")
        }
    }
    Locked(VM.lock())
}

/// Spaces reaped by the out-of-memory killer so far: a process compares it
/// with the count it saw last to learn cheaply that it may have been killed.
static REAPS: AtomicU64 = AtomicU64::new(0);

/// Counts a reap (the kernel's out-of-memory report calls it).
pub(super) fn note_reap() {
    REAPS.fetch_add(1, Ordering::Relaxed);
}

/// Spaces reaped so far.
pub fn reaps() -> u64 {
    REAPS.load(Ordering::Relaxed)
}

/// Whether space `id` was reaped by the out-of-memory killer.
pub fn is_dead(id: SpaceId) -> bool {
    lock().is_dead(id)
}

/// (cycles, pages) of the last fork's copy and of the last teardown.
static LAST_COPY: [AtomicU64; 2] = [AtomicU64::new(0), AtomicU64::new(0)];
static LAST_TEARDOWN: [AtomicU64; 2] = [AtomicU64::new(0), AtomicU64::new(0)];

/// (cycles, pages) of the last fork's page copy and of the last teardown.
pub fn last_costs() -> [(u64, u64); 2] {
    let get = |a: &[AtomicU64; 2]| (a[0].load(Ordering::Relaxed), a[1].load(Ordering::Relaxed));
    [get(&LAST_COPY), get(&LAST_TEARDOWN)]
}

/// An address space owned by a process. Dropping it destroys the space:
/// every page, frame share, swap slot and page table goes back.
#[derive(Debug)]
pub struct AddressSpace {
    id: SpaceId,
}

impl AddressSpace {
    /// A new, empty space for process `pid` named `name`; `OutOfMemory`
    /// when no page table can be had.
    pub fn new(pid: u32, name: &[u8]) -> Result<AddressSpace, VmError> {
        Ok(AddressSpace {
            id: lock().new_space(pid, name)?,
        })
    }

    /// The space's id in the VM's tables.
    pub fn id(&self) -> SpaceId {
        self.id
    }

    /// The token for `arch::switch_address_space`.
    pub fn token(&self) -> u64 {
        lock().token(self.id).unwrap_or(0)
    }

    /// Marks the space as running its process (from then on the
    /// out-of-memory killer may choose it).
    pub fn activate(&self) {
        let _ = lock().activate(self.id);
    }

    /// Adds the executable `image`'s regions (one per run of pages its
    /// segments touch) and the stack region. `OutOfMemory` when the region
    /// list cannot grow.
    pub fn load_image(&self, image: Arc<Image>) -> Result<(), VmError> {
        let mut vm = lock();
        let space = vm.space_mut(self.id)?;
        for (start, end) in image.elf.page_runs() {
            let (Some(start), Some(end)) = (UserPage::at(start), UserPage::containing(end - 1))
            else {
                return Err(VmError::NoPage);
            };
            let region = Region {
                start,
                end: end.add(1),
                kind: Kind::Image(image.clone()),
            };
            space
                .regions
                .insert(region)
                .map_err(|_| VmError::OutOfMemory)?;
        }
        // Validation kept the segments off the stack area.
        space
            .regions
            .insert(Region::stack())
            .map_err(|_| VmError::OutOfMemory)
    }

    /// `vm_claim_page`: makes the page at `va` (in a region) resident now and
    /// runs `f` on its bytes, which count as written (the first stack page).
    pub fn claim_page_with<R>(
        &self,
        va: u64,
        f: impl FnOnce(&mut [u8]) -> R,
    ) -> Result<R, VmError> {
        let page = UserPage::at(va).ok_or(VmError::NoPage)?;
        let mut vm = lock();
        let space = vm.space_mut(self.id)?;
        if !space.spt.contains(page) {
            let region = space.regions.find(page).ok_or(VmError::NoPage)?;
            let entry = Page::lazy(region.prot(page), region.is_file_backed());
            space
                .spt
                .insert(page, entry)
                .map_err(|_| VmError::OutOfMemory)?;
        }
        let pa = vm.claim(self.id, page, &mut FaultTimer::start(0))?;
        vm.mark_written(self.id, page);
        Ok(f(vm.hw.frame(pa)))
    }
}

/// `fork`: a copy-on-write copy of space `src` for process `pid` named
/// `name`. On failure everything the copy took is given back.
pub fn fork_space(src: SpaceId, pid: u32, name: &[u8]) -> Result<AddressSpace, VmError> {
    let child = AddressSpace::new(pid, name)?;
    let start = crate::arch::rdtsc();
    let mut vm = lock();
    let pages = vm.space(src)?.spt.len() as u64;
    vm.fork_space(src, child.id)?;
    drop(vm);
    LAST_COPY[0].store(crate::arch::rdtsc() - start, Ordering::Relaxed);
    LAST_COPY[1].store(pages, Ordering::Relaxed);
    Ok(child)
}

impl AddressSpace {
    /// Destroys every page of the space and returns its empty page table,
    /// which frees itself when dropped (loading the kernel's own tables
    /// first if it is still loaded then): `exit` keeps it until the thread
    /// has switched away. `None` if the space was gone already.
    pub fn retire(self) -> Option<crate::arch::paging::PageTable> {
        let this = core::mem::ManuallyDrop::new(self);
        retire(this.id)
    }
}

/// Destroys the pages of space `id`, timing the teardown; returns its table.
fn retire(id: SpaceId) -> Option<crate::arch::paging::PageTable> {
    let start = crate::arch::rdtsc();
    let mut vm = lock();
    let pages = vm.space(id).map_or(0, |s| s.spt.len() as u64);
    let table = vm.retire_space(id).ok();
    drop(vm);
    LAST_TEARDOWN[0].store(crate::arch::rdtsc() - start, Ordering::Relaxed);
    LAST_TEARDOWN[1].store(pages, Ordering::Relaxed);
    table
}

impl Drop for AddressSpace {
    fn drop(&mut self) {
        drop(retire(self.id));
    }
}

/// The physical address `va` maps to now, or 0 (Pintos `get_phys_addr`).
pub fn phys_addr(id: SpaceId, va: u64) -> u64 {
    let Some(page) = UserPage::containing(va) else {
        return 0;
    };
    let vm = lock();
    vm.space(id)
        .ok()
        .and_then(|s| Table::lookup(&s.pt, page))
        .map_or(0, |m| m.pa.get() + va % abi::layout::PAGE_SIZE)
}

/// Tells the user that the current process is killed for lack of memory,
/// when a fault of its own failed for that reason.
fn report_if_oom(vm: &mut Vm<KernelHw>, id: SpaceId, result: Result<FaultKind, Invalid>) {
    if result == Err(Invalid::OutOfMemory)
        && let Ok(space) = vm.space(id)
    {
        crate::userprog::process::report_oom_kill(space.pid, space.name(), vm.swap_usage());
    }
}

/// A bad user address (no page, wrong permission, out of memory, killed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadAddress;

/// Runs `f` on the kernel address of user byte `va` (with at least the rest
/// of its page valid) for a read or a write, faulting the page in (or
/// copying it on write) like a user access would (`user_rsp` decides stack
/// growth). The page cannot be evicted while `f` runs. `BadAddress` when
/// the access is invalid; when it failed for lack of memory, the
/// out-of-memory message has been printed.
pub fn access_user<R>(
    id: SpaceId,
    va: u64,
    write: bool,
    user_rsp: u64,
    f: impl FnOnce(*mut u8) -> R,
) -> Result<R, BadAddress> {
    let page = UserPage::containing(va).ok_or(BadAddress)?;
    let mut vm = lock();
    let space = vm.space(id).map_err(|_| BadAddress)?;
    let mapped = Table::lookup(&space.pt, page).filter(|m| !write || m.write);
    let pa = match mapped {
        Some(m) => m.pa,
        None => {
            // A fault taken on behalf of a system call: time it from here.
            let mut timer = FaultTimer::start(crate::arch::rdtsc());
            let access = Access {
                write,
                fetch: false,
            };
            let result = vm.handle_fault(id, va, access, user_rsp, &mut timer);
            let pid = vm.space(id).map_or(0, |s| s.pid);
            fault::record(timer, result, pid, va);
            report_if_oom(&mut vm, id, result);
            result.map_err(|_| BadAddress)?;
            let space = vm.space(id).map_err(|_| BadAddress)?;
            Table::lookup(&space.pt, page).ok_or(BadAddress)?.pa
        }
    };
    if write {
        vm.mark_written(id, page);
    }
    Ok(f(vm.hw.address(pa, va)))
}

/// Handles a page fault of a user access taken at `entry_tsc` and records it
/// in the fault profile; on failure for lack of memory the out-of-memory
/// message has been printed (the caller ends the process).
pub fn handle_fault(
    id: SpaceId,
    addr: u64,
    access: Access,
    user_rsp: u64,
    entry_tsc: u64,
) -> Result<FaultKind, Invalid> {
    let mut timer = FaultTimer::start(entry_tsc);
    let mut vm = lock();
    timer.stage(crate::profile::Stage::LockWait);
    let result = vm.handle_fault(id, addr, access, user_rsp, &mut timer);
    let pid = vm.space(id).map_or(0, |s| s.pid);
    fault::record(timer, result, pid, addr);
    report_if_oom(&mut vm, id, result);
    result
}

/// `do_mmap` in space `id` (see [`Vm::mmap`]).
pub fn mmap(
    id: SpaceId,
    args: MmapArgs,
    file: Arc<dyn Backing>,
    file_len: u64,
) -> Result<u64, MmapError> {
    lock().mmap(id, args, file, file_len)
}

/// `do_munmap` in space `id`.
pub fn munmap(id: SpaceId, addr: u64) {
    lock().munmap(id, addr);
}

/// (swap slots in use, swap slots in total).
pub fn swap_usage() -> (u64, u64) {
    let (used, total) = lock().swap_usage();
    (used as u64, total as u64)
}

/// (user frames holding pages, swap slots in use).
pub fn usage() -> (usize, u32) {
    lock().usage()
}

/// Swap slots held only by the swap cache (see [`Vm::cached_slots`]).
pub fn cached_slots() -> u64 {
    u64::from(lock().cached_slots())
}
