//! Virtual memory (Pintos project 3): address spaces with a supplemental page
//! table ([`spt`]), lazy UNINIT pages ([`uninit`]) that become ANON ([`anon`])
//! or FILE ([`file`]) pages on their first fault ([`fault`]), a global frame
//! table with clock eviction ([`frame`], [`clock`]) to a swap disk ([`swap`]),
//! memory-mapped files ([`mmap`]), and the fork copy and exit/exec kill of a
//! whole address space.
//!
//! Flow of a fault (the seed's): `vm_try_handle_fault` finds the page in the
//! SPT, `vm_do_claim_page` gets a frame (`vm_get_frame`, evicting when the user
//! pool is empty), `swap_in` fills it (for UNINIT pages `uninit_initialize`,
//! which turns the page into ANON or FILE), and the page is mapped; the
//! faulting instruction then runs again.
//!
//! Locking: one sleeping lock ([`VM`]) guards every address space's SPT and
//! page table, the frame table and the swap table, so eviction may touch any
//! process's pages. It is held across disk I/O; the file system is only ever
//! entered with it held, never the other way round.
pub mod anon;
pub mod clock;
pub mod fault;
pub mod file;
pub mod frame;
pub mod mmap;
pub mod page;
pub mod spt;
pub mod swap;
pub mod uninit;

use crate::arch::{self, paging::PageTable};
use crate::fs::File;
use crate::mm::{palloc, phys_to_virt};
use crate::profile::{self, FaultTimer, SpanKind, Stage};
use crate::sync::{Mutex, MutexGuard};
use abi::layout::PAGE_SIZE;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};
use file::Mapping;
use frame::FrameTable;
use page::{Anon, FilePage, Kind, Page};
use spt::Spt;
use swap::Swap;
use uninit::Initializer;

/// Pages evicted together when the user pool runs dry: their swap writes go
/// to consecutive slots in one disk request.
const EVICT_BATCH: usize = 8;

/// Most pages one swap-in reads: the faulting page and the pages of the same
/// process in the slots right after its own (written out together).
const SWAP_READAHEAD: usize = 8;

/// Index of an address space in the VM's table.
pub type SpaceId = usize;

/// Why a VM operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VmError {
    /// No frame could be had: the user pool is full and nothing can be evicted.
    OutOfMemory,
    /// No free swap slot for a page that must be swapped.
    SwapFull,
    /// Disk or file I/O failed.
    Io,
    /// The page already exists.
    Exists,
    /// No such page.
    NoPage,
}

impl From<spt::InsertError> for VmError {
    fn from(e: spt::InsertError) -> Self {
        match e {
            spt::InsertError::Exists => VmError::Exists,
            spt::InsertError::NoMemory => VmError::OutOfMemory,
        }
    }
}

/// One process's address space: page tables, SPT and file mappings.
struct Space {
    /// The owning process (for the fault profile).
    pid: u32,
    pt: PageTable,
    spt: Spt,
    mappings: Vec<Arc<Mapping>>,
}

/// The global VM state, behind [`VM`].
pub struct Vm {
    spaces: Vec<Option<Space>>,
    frames: FrameTable,
    swap: Swap,
}

static VM: Mutex<Vm> = Mutex::new(Vm {
    spaces: Vec::new(),
    frames: FrameTable::empty(),
    swap: Swap::empty(),
});

/// Sets up the frame table over the user pool and the swap table.
pub fn init() {
    let (base, count) = palloc::user_pool();
    let mut vm = VM.lock();
    vm.frames = FrameTable::new(base, count);
    vm.swap = Swap::new(crate::dev::swap_disk());
}

/// The kernel-visible bytes of a frame.
fn frame_bytes(pa: u64) -> &'static mut [u8] {
    // SAFETY: `pa` is a user-pool frame owned by the VM (held under the VM
    // lock by the caller), reached through the direct map.
    unsafe { core::slice::from_raw_parts_mut(phys_to_virt(pa) as *mut u8, PAGE_SIZE as usize) }
}

impl Vm {
    fn space(&mut self, id: SpaceId) -> &mut Space {
        self.spaces[id].as_mut().expect("no such address space")
    }

    /// `vm_get_frame`: a frame for the page `owner`, from the user pool or by
    /// evicting other pages, and whether it is known to hold only zeros
    /// (otherwise its contents are undefined).
    fn get_frame(&mut self, owner: (SpaceId, u64)) -> Result<(u64, bool), VmError> {
        if let Some((pa, zeroed)) = palloc::alloc_user_page_uninit() {
            self.frames.set_owner(pa, Some(owner));
            return Ok((pa, zeroed));
        }
        // A batch that frees nothing (swap full for its pages) moves the
        // clock on; give up when every frame was tried.
        let mut last = VmError::OutOfMemory;
        for _ in 0..self.frames.len().div_ceil(EVICT_BATCH).max(1) {
            let start = arch::rdtsc();
            match self.evict_batch() {
                Ok((pa, pid, va)) => {
                    profile::span(SpanKind::Evict, pid, va, start, arch::rdtsc());
                    self.frames.set_owner(pa, Some(owner));
                    return Ok((pa, false));
                }
                Err(VmError::NoPage) => return Err(last),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    /// The next victim of the clock (not pinned), if any.
    fn choose_victim(&mut self) -> Option<u64> {
        let spaces = &mut self.spaces;
        self.frames.choose_victim(|id| {
            // SAFETY: the page tables live in `spaces`, which the VM lock
            // protects and which is not resized while the clock runs; the
            // reference does not escape the closure's use.
            spaces
                .get_mut(id)
                .and_then(|s| s.as_mut())
                .map(|s| unsafe { &mut *(&mut s.pt as *mut PageTable) })
        })
    }

    /// Evicts up to [`EVICT_BATCH`] pages chosen by the clock (`swap_out`):
    /// unmaps each first (so no process changes it while it is written), drops
    /// the ones that can be rebuilt, writes dirty file pages back, and writes
    /// the anonymous pages that need swap to consecutive slots in one disk
    /// request. Keeps one freed frame for the caller (returned with the pid
    /// and address of the page it held) and gives the others back to the pool.
    /// `Err(NoPage)`: no frame could be chosen at all.
    fn evict_batch(&mut self) -> Result<(u64, u32, u64), VmError> {
        let mut victims = Vec::with_capacity(EVICT_BATCH);
        while victims.len() < EVICT_BATCH {
            let Some(pa) = self.choose_victim() else {
                break;
            };
            self.frames.pin(pa, true);
            victims.push(pa);
        }
        let Some(&first) = victims.first() else {
            return Err(VmError::NoPage);
        };
        let (first_id, first_va) = self.frames.owner(first).expect("victim without an owner");
        let first_pid = self.space(first_id).pid;
        // Unmap every victim first and invalidate once for the batch, before
        // anything is written: from then on no process can change them.
        let mut unmapped = Vec::with_capacity(victims.len());
        for &pa in &victims {
            let (id, va) = self.frames.owner(pa).expect("victim without an owner");
            let space = self.space(id);
            unmapped.push(space.pt.clear(va).expect("resident page without a mapping"));
        }
        let mut flushed: Vec<SpaceId> = Vec::new();
        for &pa in &victims {
            let (id, _) = self.frames.owner(pa).expect("victim without an owner");
            if !flushed.contains(&id) {
                self.space(id).pt.flush_all();
                flushed.push(id);
            }
        }
        let mut freed = Vec::with_capacity(victims.len());
        let mut to_swap = Vec::new();
        let mut last = VmError::OutOfMemory;
        for (&pa, mapping) in victims.iter().zip(unmapped) {
            let (id, va) = self.frames.owner(pa).expect("victim without an owner");
            let space = self.space(id);
            let page = space
                .spt
                .find_mut(va)
                .expect("resident page without an SPT entry");
            match &mut page.kind {
                Kind::Anon(a) => match anon::swap_out(a, mapping.dirty) {
                    anon::SwapOut::Drop(origin) => {
                        page.kind = Kind::Uninit(origin);
                        page.frame = None;
                        freed.push(pa);
                    }
                    anon::SwapOut::Write => to_swap.push((pa, id, va)),
                },
                Kind::File(f) => {
                    let start = arch::rdtsc();
                    let written = mapping.dirty || f.dirty;
                    match file::write_back(f, frame_bytes(pa), mapping.dirty) {
                        Ok(()) => {
                            page.frame = None;
                            freed.push(pa);
                        }
                        Err(e) => {
                            last = e;
                            self.remap(id, va, pa);
                        }
                    }
                    if written {
                        profile::span(
                            SpanKind::FileWrite,
                            self.space(id).pid,
                            va,
                            start,
                            arch::rdtsc(),
                        );
                    }
                }
                Kind::Uninit(_) => unreachable!("resident UNINIT page"),
            }
        }
        if !to_swap.is_empty() {
            let start = arch::rdtsc();
            let (out, err) = self.write_to_swap(&to_swap);
            profile::span(
                SpanKind::SwapWrite,
                first_pid,
                first_va,
                start,
                arch::rdtsc(),
            );
            freed.extend(out);
            if let Some(e) = err {
                last = e;
            }
        }
        for &pa in &victims {
            self.frames.pin(pa, false);
        }
        let Some((&keep, rest)) = freed.split_first() else {
            return Err(last);
        };
        for &pa in rest {
            self.release_frame(pa);
        }
        Ok((keep, first_pid, first_va))
    }

    /// Writes the (unmapped) anonymous pages `(frame, space, va)` to swap:
    /// consecutive slots and one request when a run is free, else a slot and a
    /// write each. Returns the frames written out and the last error; pages
    /// that could not be written are mapped again.
    fn write_to_swap(&mut self, pages: &[(u64, SpaceId, u64)]) -> (Vec<u64>, Option<VmError>) {
        let frames: Vec<u64> = pages.iter().map(|p| p.0).collect();
        let n = pages.len() as u32;
        let mut slots: Vec<Option<u32>> = alloc::vec![None; pages.len()];
        let mut err = None;
        match self.swap.alloc_run(n) {
            Some(run) => match self.swap.write_frames(run, &frames) {
                Ok(()) => slots
                    .iter_mut()
                    .zip(run..)
                    .for_each(|(s, slot)| *s = Some(slot)),
                Err(e) => {
                    (run..run + n).for_each(|slot| self.swap.free(slot));
                    err = Some(e);
                }
            },
            None => {
                for (i, &(pa, _, _)) in pages.iter().enumerate() {
                    let Some(slot) = self.swap.alloc() else {
                        err = Some(VmError::SwapFull);
                        break;
                    };
                    match self.swap.write(slot, frame_bytes(pa)) {
                        Ok(()) => slots[i] = Some(slot),
                        Err(e) => {
                            self.swap.free(slot);
                            err = Some(e);
                        }
                    }
                }
            }
        }
        let mut out = Vec::with_capacity(pages.len());
        for (&(pa, id, va), slot) in pages.iter().zip(slots) {
            match slot {
                Some(slot) => {
                    self.swap.set_owner(slot, (id, va));
                    let page = self
                        .space(id)
                        .spt
                        .find_mut(va)
                        .expect("victim without an SPT entry");
                    if let Kind::Anon(a) = &mut page.kind {
                        anon::swapped_out(a, slot);
                    }
                    page.frame = None;
                    out.push(pa);
                }
                None => self.remap(id, va, pa),
            }
        }
        (out, err)
    }

    /// Maps a victim that could not be evicted back where it was.
    fn remap(&mut self, id: SpaceId, va: u64, pa: u64) {
        let space = self.space(id);
        let writable = space.spt.find(va).is_some_and(|p| p.writable);
        // The page's own page table already had this entry: no allocation.
        let _ = space.pt.map(va, pa, writable);
    }

    /// `vm_do_claim_page`: gives the page at `va` a frame, fills it
    /// (`swap_in`) and maps it. Returns the frame.
    fn claim(&mut self, id: SpaceId, va: u64, timer: &mut FaultTimer) -> Result<u64, VmError> {
        if let Some(pa) = self.space(id).spt.find(va).ok_or(VmError::NoPage)?.frame {
            return Ok(pa);
        }
        let (pa, zeroed) = self.get_frame((id, va))?;
        timer.stage(Stage::FrameAlloc);
        self.frames.pin(pa, true);
        let swapped = match &self.space(id).spt.find(va).ok_or(VmError::NoPage)?.kind {
            Kind::Anon(Anon {
                slot: Some(slot), ..
            }) => Some(*slot),
            _ => None,
        };
        let result = match swapped {
            Some(slot) => self.swap_in_run(id, va, pa, slot, timer),
            None => self.fill(id, va, pa, zeroed, timer),
        };
        match result {
            Ok(()) => {
                self.frames.pin(pa, false);
                Ok(pa)
            }
            Err(e) => {
                self.release_frame(pa);
                Err(e)
            }
        }
    }

    /// `anon_swap_in` with read-ahead: reads the page at `va` from `slot`
    /// into `pa`, together with the pages of the same space held in the
    /// slots right after it (up to [`SWAP_READAHEAD`] in all, each into a
    /// free frame: read-ahead never evicts), in one disk request, and maps
    /// them all. The pages read ahead are mapped not accessed, so the clock
    /// takes them back first if they stay unused.
    fn swap_in_run(
        &mut self,
        id: SpaceId,
        va: u64,
        pa: u64,
        slot: u32,
        timer: &mut FaultTimer,
    ) -> Result<(), VmError> {
        let mut run = alloc::vec![(va, pa)];
        while run.len() < SWAP_READAHEAD {
            let next = slot + run.len() as u32;
            let Some((owner, next_va)) = self.swap.owner(next) else {
                break;
            };
            if owner != id {
                break;
            }
            let Some((frame, _)) = palloc::alloc_user_page_uninit() else {
                break;
            };
            self.frames.set_owner(frame, Some((id, next_va)));
            self.frames.pin(frame, true);
            run.push((next_va, frame));
        }
        let frames: Vec<u64> = run.iter().map(|&(_, f)| f).collect();
        let start = arch::rdtsc();
        let read = self.swap.read_frames(slot, &frames);
        profile::span(
            SpanKind::SwapRead,
            self.space(id).pid,
            va,
            start,
            arch::rdtsc(),
        );
        timer.stage(Stage::Init);
        if let Err(e) = read {
            for &(_, frame) in &run[1..] {
                self.release_frame(frame);
            }
            return Err(e);
        }
        let mut result = Ok(());
        for (i, &(page_va, frame)) in run.iter().enumerate() {
            let page_slot = slot + i as u32;
            let Vm {
                spaces,
                swap,
                frames,
            } = &mut *self;
            let space = spaces[id].as_mut().expect("no such address space");
            let page = space
                .spt
                .find_mut(page_va)
                .expect("swapped page without an SPT entry");
            if space.pt.map(page_va, frame, page.writable).is_err() {
                // No memory for a page table: the page stays in its slot.
                if i == 0 {
                    result = Err(VmError::OutOfMemory);
                } else {
                    frames.set_owner(frame, None);
                    palloc::free_user_page(frame);
                }
                continue;
            }
            debug_assert!(matches!(&page.kind, Kind::Anon(a) if a.slot == Some(page_slot)));
            if let Kind::Anon(a) = &mut page.kind {
                anon::swapped_in(a, swap);
            }
            page.frame = Some(frame);
            if i > 0 {
                frames.pin(frame, false);
            }
        }
        result
    }

    /// Returns a frame that holds no page to the user pool.
    fn release_frame(&mut self, pa: u64) {
        self.frames.set_owner(pa, None);
        palloc::free_user_page(pa);
    }

    /// Maps frame `pa` (already filled) at `va`, or releases it on failure.
    fn install(&mut self, id: SpaceId, va: u64, pa: u64, writable: bool) -> Result<(), VmError> {
        if self.space(id).pt.map(va, pa, writable).is_err() {
            self.release_frame(pa);
            return Err(VmError::OutOfMemory);
        }
        Ok(())
    }

    /// Fills frame `pa` (`zeroed`: known to hold only zeros) with the page's
    /// contents and maps it.
    fn fill(
        &mut self,
        id: SpaceId,
        va: u64,
        pa: u64,
        zeroed: bool,
        timer: &mut FaultTimer,
    ) -> Result<(), VmError> {
        let space = self.space(id);
        let page = space.spt.find_mut(va).ok_or(VmError::NoPage)?;
        let frame = frame_bytes(pa);
        let start = arch::rdtsc();
        let io = match &mut page.kind {
            Kind::Uninit(init) => {
                let init = init.clone();
                let io = init.reads_file().then_some(SpanKind::FileRead);
                page.kind = init.initialize(frame, zeroed).map_err(|_| VmError::Io)?;
                io
            }
            // A non-resident anonymous page always has a slot, and those are
            // read by `swap_in_run`.
            Kind::Anon(_) => unreachable!("anonymous page without a swap slot to read"),
            Kind::File(f) => {
                file::swap_in(f, frame)?;
                Some(SpanKind::FileRead)
            }
        };
        if let Some(kind) = io {
            profile::span(kind, space.pid, va, start, arch::rdtsc());
        }
        timer.stage(Stage::Init);
        space
            .pt
            .map(va, pa, page.writable)
            .map_err(|_| VmError::OutOfMemory)?;
        page.frame = Some(pa);
        Ok(())
    }

    /// `destroy`: releases everything the page at `va` holds (writing a dirty
    /// file page back) and removes it from the SPT and page table (`flush`:
    /// invalidate its cached translation now, else the caller flushes later).
    fn destroy_page(&mut self, id: SpaceId, va: u64, flush: bool) {
        let Vm {
            spaces,
            swap,
            frames,
        } = self;
        let space = spaces[id].as_mut().expect("no such address space");
        let Some(mut page) = space.spt.remove(va) else {
            return;
        };
        // The whole-space kill flushes once at the end instead of per page.
        let mapping = if flush {
            space.pt.unmap(va)
        } else {
            space.pt.clear(va)
        };
        if let Some(pa) = page.frame {
            if let Kind::File(f) = &mut page.kind {
                // Exit and munmap write dirty pages back; an I/O error here
                // has nobody to report to.
                let _ = file::write_back(f, frame_bytes(pa), mapping.is_some_and(|m| m.dirty));
            }
            frames.set_owner(pa, None);
            palloc::free_user_page(pa);
        } else {
            anon::destroy(&page.kind, swap);
        }
    }

    /// `supplemental_page_table_kill`: destroys every page; the SPT stays usable.
    fn kill(&mut self, id: SpaceId) {
        for va in self.space(id).spt.addresses() {
            self.destroy_page(id, va, false);
        }
        let space = self.space(id);
        space.pt.flush_all();
        space.mappings.clear();
    }

    /// Marks the page at `va` as modified by the kernel (which writes user
    /// pages through the direct map, so the hardware dirty bit stays clear).
    fn mark_written(&mut self, id: SpaceId, va: u64) {
        if let Some(page) = self.space(id).spt.find_mut(va) {
            match &mut page.kind {
                Kind::Anon(a) => a.origin = None,
                Kind::File(f) => f.dirty = true,
                Kind::Uninit(_) => {}
            }
        }
    }
}

/// Takes the VM lock.
fn lock() -> MutexGuard<'static, Vm> {
    VM.lock()
}

/// A new, empty address space for process `pid`.
pub fn new_space(pid: u32) -> Result<SpaceId, VmError> {
    let pt = PageTable::new().map_err(|_| VmError::OutOfMemory)?;
    let space = Space {
        pid,
        pt,
        spt: Spt::new(),
        mappings: Vec::new(),
    };
    let mut vm = lock();
    match vm.spaces.iter().position(|s| s.is_none()) {
        Some(i) => {
            vm.spaces[i] = Some(space);
            Ok(i)
        }
        None => {
            vm.spaces.push(Some(space));
            Ok(vm.spaces.len() - 1)
        }
    }
}

/// (cycles, pages) of the last fork copy and of the last teardown.
static LAST_COPY: [AtomicU64; 2] = [AtomicU64::new(0), AtomicU64::new(0)];
static LAST_TEARDOWN: [AtomicU64; 2] = [AtomicU64::new(0), AtomicU64::new(0)];

/// (cycles, pages) of the last fork's page copy and of the last teardown.
pub fn last_costs() -> [(u64, u64); 2] {
    let get = |a: &[AtomicU64; 2]| (a[0].load(Ordering::Relaxed), a[1].load(Ordering::Relaxed));
    [get(&LAST_COPY), get(&LAST_TEARDOWN)]
}

/// Kills every page of the space and frees its page tables.
pub fn destroy_space(id: SpaceId) {
    let start = arch::rdtsc();
    let mut vm = lock();
    let pages = vm.space(id).spt.len() as u64;
    vm.kill(id);
    let space = vm.spaces[id].take();
    drop(vm);
    drop(space);
    LAST_TEARDOWN[0].store(arch::rdtsc() - start, Ordering::Relaxed);
    LAST_TEARDOWN[1].store(pages, Ordering::Relaxed);
}

/// Token for `arch::switch_address_space`.
pub fn space_token(id: SpaceId) -> u64 {
    lock().space(id).pt.token()
}

/// `vm_alloc_page_with_initializer`: registers an UNINIT page at `va`.
pub fn alloc_page_with_initializer(
    id: SpaceId,
    va: u64,
    writable: bool,
    init: Initializer,
) -> Result<(), VmError> {
    lock()
        .space(id)
        .spt
        .insert(va, Page::new(writable, init))
        .map_err(VmError::from)
}

/// `vm_claim_page`: makes the page at `va` resident now, then runs `f` on its
/// bytes while it cannot be evicted (used for the first stack page).
pub fn claim_page_with<R>(
    id: SpaceId,
    va: u64,
    f: impl FnOnce(&mut [u8]) -> R,
) -> Result<R, VmError> {
    let mut vm = lock();
    let pa = vm.claim(id, va, &mut FaultTimer::start(0))?;
    vm.mark_written(id, va);
    Ok(f(frame_bytes(pa)))
}

/// The physical address `va` maps to now, or 0 (Pintos `get_phys_addr`).
pub fn phys_addr(id: SpaceId, va: u64) -> u64 {
    if !crate::mm::is_user_range(va, 1) {
        return 0;
    }
    lock()
        .space(id)
        .pt
        .lookup(va)
        .map_or(0, |m| m.pa + va % PAGE_SIZE)
}

/// A bad user address (no page, wrong permission, out of memory).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadAddress;

/// Runs `f` on the kernel address of user byte `va` (with at least the rest
/// of its page valid) for a read or a write, faulting the page in like a user
/// access would (`user_rsp` decides stack growth). The page cannot be evicted
/// while `f` runs.
pub fn access_user<R>(
    id: SpaceId,
    va: u64,
    write: bool,
    user_rsp: u64,
    f: impl FnOnce(*mut u8) -> R,
) -> Result<R, BadAddress> {
    let mut vm = lock();
    let page_va = va & !(PAGE_SIZE - 1);
    let resident = vm.space(id).pt.lookup(va).filter(|m| !write || m.writable);
    let pa = match resident {
        Some(m) => m.pa,
        None => {
            // A fault taken on behalf of a system call: time it from here.
            let mut timer = FaultTimer::start(arch::rdtsc());
            let kind = fault::handle(&mut vm, id, va, write, false, user_rsp, &mut timer);
            fault::record(timer, kind, vm.space(id).pid, va);
            kind.map_err(|_| BadAddress)?;
            vm.space(id).pt.lookup(va).ok_or(BadAddress)?.pa
        }
    };
    if write {
        vm.mark_written(id, page_va);
    }
    Ok(f((phys_to_virt(pa) + va % PAGE_SIZE) as *mut u8))
}

/// Handles a page fault of a user access taken at `entry_tsc` (see
/// [`fault::handle`]) and records it in the fault profile.
pub fn handle_fault(
    id: SpaceId,
    addr: u64,
    write: bool,
    present: bool,
    user_rsp: u64,
    entry_tsc: u64,
) -> Result<fault::FaultKind, fault::Invalid> {
    let mut timer = FaultTimer::start(entry_tsc);
    let mut vm = lock();
    let result = fault::handle(&mut vm, id, addr, write, present, user_rsp, &mut timer);
    fault::record(timer, result, vm.space(id).pid, addr);
    result
}

/// `supplemental_page_table_copy` (fork): copies every page of `src` into the
/// empty space `dst`, whatever its state, so the child sees the same bytes.
pub fn copy_space(src: SpaceId, dst: SpaceId) -> Result<(), VmError> {
    let start = arch::rdtsc();
    let mut vm = lock();
    let addresses = vm.space(src).spt.addresses();
    let pages = addresses.len() as u64;
    for va in addresses {
        let page = vm.space(src).spt.find(va).ok_or(VmError::NoPage)?.clone();
        let writable = page.writable;
        let copy = match (&page.kind, page.frame) {
            (Kind::Uninit(init), _) => Page::new(writable, init.clone()),
            (Kind::File(f), None) => Page {
                writable,
                frame: None,
                kind: Kind::File(f.clone()),
            },
            (kind, Some(src_pa)) => {
                // Resident in the parent: pin it while the child's frame is found.
                vm.frames.pin(src_pa, true);
                let dst_pa = vm.get_frame((dst, va));
                vm.frames.pin(src_pa, false);
                let (dst_pa, _) = dst_pa?;
                frame_bytes(dst_pa).copy_from_slice(frame_bytes(src_pa));
                let dirty = vm.space(src).pt.lookup(va).is_some_and(|m| m.dirty);
                let kind = match kind {
                    Kind::File(f) => Kind::File(FilePage {
                        dirty: f.dirty || dirty,
                        ..f.clone()
                    }),
                    _ => Kind::Anon(Anon {
                        slot: None,
                        origin: None,
                    }),
                };
                vm.install(dst, va, dst_pa, writable)?;
                Page {
                    writable,
                    frame: Some(dst_pa),
                    kind,
                }
            }
            (Kind::Anon(a), None) => {
                // Swapped out in the parent: read the slot into a frame of the child's.
                let slot = a.slot.expect("non-resident ANON page without a slot");
                let (dst_pa, _) = vm.get_frame((dst, va))?;
                if let Err(e) = vm.swap.read(slot, frame_bytes(dst_pa)) {
                    vm.release_frame(dst_pa);
                    return Err(e);
                }
                vm.install(dst, va, dst_pa, writable)?;
                Page {
                    writable,
                    frame: Some(dst_pa),
                    kind: Kind::Anon(Anon {
                        slot: None,
                        origin: None,
                    }),
                }
            }
        };
        vm.space(dst).spt.insert(va, copy).map_err(VmError::from)?;
    }
    let mappings = vm.space(src).mappings.clone();
    vm.space(dst).mappings = mappings;
    LAST_COPY[0].store(arch::rdtsc() - start, Ordering::Relaxed);
    LAST_COPY[1].store(pages, Ordering::Relaxed);
    Ok(())
}

/// `do_mmap`: maps `length` bytes of `file` from `offset` at `addr`, lazily.
pub fn mmap(
    id: SpaceId,
    addr: u64,
    length: u64,
    writable: bool,
    file: File,
    offset: u64,
) -> Result<u64, mmap::MmapError> {
    let pages = mmap::check_range(addr, length, offset as i64)?;
    let file_len = file.length();
    if file_len == 0 {
        return Err(mmap::MmapError::EmptyFile);
    }
    let mut vm = lock();
    let space = vm.space(id);
    let end = addr + pages * PAGE_SIZE;
    // Check whichever is smaller: the requested pages or the existing ones.
    let overlaps = if pages > space.spt.len() as u64 {
        space
            .spt
            .addresses()
            .iter()
            .any(|va| (addr..end).contains(va))
    } else {
        (0..pages).any(|i| space.spt.contains(addr + i * PAGE_SIZE))
    };
    if overlaps {
        return Err(mmap::MmapError::Overlap);
    }
    let mapping = Arc::new(Mapping {
        file,
        start: addr,
        pages,
    });
    for i in 0..pages {
        let init = Initializer::Mmap {
            mapping: mapping.clone(),
            offset: offset + i * PAGE_SIZE,
            read_bytes: mmap::read_bytes(file_len, offset, i),
        };
        if space
            .spt
            .insert(addr + i * PAGE_SIZE, Page::new(writable, init))
            .is_err()
        {
            // The heap cannot describe that many pages: undo and refuse.
            for j in 0..i {
                space.spt.remove(addr + j * PAGE_SIZE);
            }
            return Err(mmap::MmapError::OutOfMemory);
        }
    }
    space.mappings.push(mapping);
    Ok(addr)
}

/// `do_munmap`: unmaps the mapping that starts at `addr` (writing dirty pages
/// back); other addresses are ignored.
pub fn munmap(id: SpaceId, addr: u64) {
    let mut vm = lock();
    let space = vm.space(id);
    let Some(i) = space.mappings.iter().position(|m| m.start == addr) else {
        return;
    };
    let mapping = space.mappings.swap_remove(i);
    for p in 0..mapping.pages {
        vm.destroy_page(id, addr + p * PAGE_SIZE, true);
    }
}

/// (swap slots in use, swap slots in total).
pub fn swap_usage() -> (u64, u64) {
    let (used, total) = lock().swap.usage();
    (used as u64, total as u64)
}
