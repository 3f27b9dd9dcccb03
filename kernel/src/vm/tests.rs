//! Host tests of the VM policy on the fake machine ([`super::fake`]): first
//! touch, eviction choice and batching, swap-in with read-ahead, fork's
//! sharing and copy-on-write, fork failing midway, teardown of every page
//! state, mmap regions and their rules, the reverse map of an evicted shared
//! frame, and the out-of-memory killer. "User accesses" go through the fake
//! page tables the way the MMU would: a present, permitted entry is used and
//! marked accessed (and dirty on a write); anything else is a fault.
use super::addr::{PhysAddr, SpaceId, UserPage};
use super::fake::{BASE, FakeHw, MemFile};
use super::fault::{Access, FaultKind, Invalid};
use super::file::Backing;
use super::hw::{Hw, Table};
use super::mmap::{MmapArgs, MmapError};
use super::region::{Image, Kind, Region};
use super::{EVICT_BATCH_MIN, Vm, VmError};
use crate::mm::test_budget;
use crate::profile::FaultTimer;
use crate::userprog::elf::{ElfImage, Segment};
use abi::layout::{PAGE_SIZE, USER_STACK, USER_STACK_MAX};
use alloc::sync::Arc;

const PAGE: u64 = PAGE_SIZE;
/// A stack pointer below every stack page: any stack access may grow it.
const LOW_RSP: u64 = USER_STACK - USER_STACK_MAX;

pub(super) fn machine(frames: usize, slots: usize) -> Vm<FakeHw> {
    Vm::new(FakeHw::new(frames, slots), PhysAddr::new(BASE), frames)
}

/// A running space with a stack region.
pub(super) fn process(vm: &mut Vm<FakeHw>, pid: u32) -> SpaceId {
    let id = vm.new_space(pid, b"proc").unwrap();
    vm.space_mut(id)
        .unwrap()
        .regions
        .insert(Region::stack())
        .unwrap();
    vm.activate(id).unwrap();
    id
}

/// The address of stack page `i` (0 is the top one).
pub(super) fn stack(i: u64) -> u64 {
    USER_STACK - (i + 1) * PAGE
}

/// A user access to `va`: faults until the page table allows it, then marks
/// the entry like the MMU; returns the frame.
pub(super) fn access(
    vm: &mut Vm<FakeHw>,
    id: SpaceId,
    va: u64,
    write: bool,
) -> Result<PhysAddr, Invalid> {
    let page = UserPage::containing(va).unwrap();
    for _ in 0..3 {
        if let Ok(space) = vm.space_mut(id)
            && let Some(e) = space.pt.entries.get_mut(&page)
            && (!write || e.prot.write)
        {
            e.accessed = true;
            e.dirty |= write;
            return Ok(e.pa);
        }
        let access = Access {
            write,
            fetch: false,
        };
        vm.handle_fault(id, va, access, LOW_RSP, &mut FaultTimer::start(0))?;
    }
    panic!("the fault at {va:#x} did not resolve");
}

pub(super) fn write(vm: &mut Vm<FakeHw>, id: SpaceId, va: u64, value: u8) {
    let pa = access(vm, id, va, true).unwrap();
    vm.hw.frame(pa)[(va % PAGE) as usize] = value;
}

pub(super) fn read(vm: &mut Vm<FakeHw>, id: SpaceId, va: u64) -> u8 {
    let pa = access(vm, id, va, false).unwrap();
    vm.hw.frame(pa)[(va % PAGE) as usize]
}

/// The frame `va` maps to now, if any.
pub(super) fn mapped(vm: &Vm<FakeHw>, id: SpaceId, va: u64) -> Option<PhysAddr> {
    let page = UserPage::containing(va).unwrap();
    vm.space(id).unwrap().pt.lookup(page).map(|p| p.pa)
}

/// Destroys every space and checks that every frame and slot came back.
pub(super) fn teardown(mut vm: Vm<FakeHw>, frames: usize) -> FakeHw {
    for i in 0..vm.spaces.len() as u32 {
        if vm.spaces[i as usize].is_some() {
            vm.destroy_space(SpaceId(i)).unwrap();
        }
    }
    assert_eq!(vm.usage(), (0, 0), "frames or slots leaked");
    assert_eq!(vm.hw.free.len(), frames, "frames not back in the pool");
    vm.hw
}

#[test]
fn first_touch_follows_the_region_and_the_stack_rule() {
    let mut vm = machine(8, 0);
    let id = process(&mut vm, 1);
    assert_eq!(
        read(&mut vm, id, stack(0)),
        0,
        "a new stack page reads zeros"
    );
    // Below rsp - 8 the stack does not grow.
    let access = Access::default();
    let far = stack(10);
    let got = vm.handle_fault(id, far, access, far + 64, &mut FaultTimer::start(0));
    assert_eq!(got, Err(Invalid::NoPage));
    assert_eq!(
        vm.handle_fault(id, 0x1000, access, LOW_RSP, &mut FaultTimer::start(0)),
        Err(Invalid::NoPage),
        "outside every region"
    );
    // An instruction fetch from the stack is refused (no-execute).
    let fetch = Access {
        write: false,
        fetch: true,
    };
    let got = vm.handle_fault(id, stack(0), fetch, LOW_RSP, &mut FaultTimer::start(0));
    assert_eq!(got, Err(Invalid::NoExec));
    teardown(vm, 8);
}

#[test]
fn eviction_swaps_dirty_pages_in_batches_and_reads_them_back() {
    let mut vm = machine(4, 32);
    let id = process(&mut vm, 1);
    for i in 0..20 {
        write(&mut vm, id, stack(i), i as u8 + 1);
    }
    // 16 pages went out, in batches: fewer writes than pages.
    assert!(vm.swap_usage().0 >= 16);
    assert!(vm.hw.swap_writes < 16, "{} writes", vm.hw.swap_writes);
    for i in 0..20 {
        assert_eq!(read(&mut vm, id, stack(i)), i as u8 + 1, "page {i}");
    }
    teardown(vm, 4);
}

#[test]
fn the_clock_keeps_recently_used_pages() {
    let mut vm = machine(16, 64);
    let id = process(&mut vm, 1);
    for i in 0..16 {
        write(&mut vm, id, stack(i), 1);
    }
    // Everything looks idle, then pages 0..8 are used again.
    for e in vm.space_mut(id).unwrap().pt.entries.values_mut() {
        e.accessed = false;
    }
    for i in 0..8 {
        read(&mut vm, id, stack(i));
    }
    let (pa, _) = vm.evict_batch().unwrap();
    vm.hw.free_frame(pa);
    for i in 0..8 {
        assert!(
            mapped(&vm, id, stack(i)).is_some(),
            "used page {i} was evicted"
        );
    }
    for i in 8..16 {
        assert!(mapped(&vm, id, stack(i)).is_none(), "idle page {i} stayed");
    }
    assert_eq!(vm.swap_usage().0, EVICT_BATCH_MIN as u32);
    assert_eq!(vm.hw.swap_writes, 1, "one request for the batch");
    teardown(vm, 16);
}

#[test]
fn clean_pages_are_dropped_and_rebuilt_not_swapped() {
    let mut vm = machine(4, 32);
    let id = process(&mut vm, 1);
    for i in 0..12 {
        read(&mut vm, id, stack(i));
    }
    assert_eq!(
        vm.swap_usage().0,
        0,
        "zero pages never written need no swap"
    );
    assert_eq!(read(&mut vm, id, stack(0)), 0);
    teardown(vm, 4);
}

#[test]
fn swap_in_reads_the_following_slots_ahead() {
    let mut vm = machine(8, 32);
    let id = process(&mut vm, 1);
    for i in 0..8 {
        write(&mut vm, id, stack(i), 10 + i as u8);
    }
    let (pa, _) = vm.evict_batch().unwrap();
    vm.hw.free_frame(pa);
    assert_eq!(vm.swap_usage().0, 8);
    let reads = vm.hw.swap_reads;
    // The page in the first slot comes back with the seven after it.
    let first = (0..8)
        .find(|&i| {
            let page = UserPage::containing(stack(i)).unwrap();
            let p = vm.space(id).unwrap().spt.find(page).unwrap();
            p.fill_source() == super::page::Source::Swap(super::SwapSlot(0))
        })
        .unwrap();
    assert_eq!(read(&mut vm, id, stack(first)), 10 + first as u8);
    assert_eq!(vm.hw.swap_reads, reads + 1, "one request for all eight");
    for i in 0..8 {
        assert_eq!(read(&mut vm, id, stack(i)), 10 + i as u8);
    }
    assert_eq!(vm.hw.swap_reads, reads + 1, "all eight came back at once");
    assert_eq!(vm.swap_usage().0, 8, "each keeps its slot (the swap cache)");
    teardown(vm, 8);
}

#[test]
fn fork_shares_frames_until_a_write_copies_them() {
    let mut vm = machine(32, 0);
    let parent = process(&mut vm, 1);
    for i in 0..4 {
        write(&mut vm, parent, stack(i), 1 + i as u8);
    }
    let child = vm.new_space(2, b"child").unwrap();
    vm.fork_space(parent, child).unwrap();
    vm.activate(child).unwrap();
    for i in 0..4 {
        let (p, c) = (mapped(&vm, parent, stack(i)), mapped(&vm, child, stack(i)));
        assert!(p.is_some() && p == c, "page {i} is shared");
    }
    let used = vm.usage().0;
    // The child writes page 0: it gets a copy; the parent keeps its frame and value.
    let before = mapped(&vm, parent, stack(0));
    write(&mut vm, child, stack(0), 99);
    assert_ne!(mapped(&vm, child, stack(0)), before);
    assert_eq!(mapped(&vm, parent, stack(0)), before);
    assert_eq!(read(&mut vm, parent, stack(0)), 1);
    assert_eq!(read(&mut vm, child, stack(0)), 99);
    assert_eq!(
        read(&mut vm, child, stack(1)),
        2,
        "the copy holds the old bytes"
    );
    assert_eq!(vm.usage().0, used + 1);
    // The parent writes page 0, no longer shared: it takes its frame back.
    write(&mut vm, parent, stack(0), 7);
    assert_eq!(mapped(&vm, parent, stack(0)), before);
    // Once the child is gone, the parent is the last sharer of page 1.
    let shared = mapped(&vm, parent, stack(1));
    vm.destroy_space(child).unwrap();
    write(&mut vm, parent, stack(1), 8);
    assert_eq!(
        mapped(&vm, parent, stack(1)),
        shared,
        "taken over, not copied"
    );
    assert_eq!(read(&mut vm, parent, stack(1)), 8);
    teardown(vm, 32);
}

#[test]
fn pages_swapped_before_a_fork_are_read_ahead_in_the_child() {
    let mut vm = machine(16, 64);
    let parent = process(&mut vm, 1);
    for i in 0..12 {
        write(&mut vm, parent, stack(i), 1 + i as u8);
    }
    let (pa, _) = vm.evict_batch().unwrap();
    vm.hw.free_frame(pa);
    let swapped: Vec<u64> = (0..12)
        .filter(|&i| mapped(&vm, parent, stack(i)).is_none())
        .collect();
    assert_eq!(swapped.len(), EVICT_BATCH_MIN);
    let child = vm.new_space(2, b"child").unwrap();
    vm.fork_space(parent, child).unwrap();
    vm.activate(child).unwrap();
    // Every slot is shared by parent and child now: no slot names its page.
    let reads = vm.hw.swap_reads;
    for &i in &swapped {
        assert_eq!(read(&mut vm, child, stack(i)), 1 + i as u8, "page {i}");
    }
    assert!(
        vm.hw.swap_reads - reads < 3,
        "{} reads for {} shared pages",
        vm.hw.swap_reads - reads,
        swapped.len()
    );
    // The parent still reads its own values from the slots it keeps.
    vm.activate(parent).unwrap();
    for &i in &swapped {
        assert_eq!(read(&mut vm, parent, stack(i)), 1 + i as u8, "page {i}");
    }
    teardown(vm, 16);
}

#[test]
fn a_large_pool_evicts_in_large_batches() {
    let mut vm = machine(1024, 64);
    let id = process(&mut vm, 1);
    for i in 0..40 {
        write(&mut vm, id, stack(i), 1);
    }
    for e in vm.space_mut(id).unwrap().pt.entries.values_mut() {
        e.accessed = false;
    }
    let writes = vm.hw.swap_writes;
    let (pa, _) = vm.evict_batch().unwrap();
    vm.hw.free_frame(pa);
    assert_eq!(vm.swap_usage().0, super::EVICT_BATCH as u32);
    assert_eq!(vm.hw.swap_writes - writes, 1, "one request for the batch");
    teardown(vm, 1024);
}

#[test]
fn fork_failing_midway_gives_back_every_share() {
    let mut vm = machine(12, 16);
    let parent = process(&mut vm, 1);
    for i in 0..10 {
        write(&mut vm, parent, stack(i), 1 + i as u8);
    }
    // Some pages are in swap now, the rest resident.
    let (pa, _) = vm.evict_batch().unwrap();
    vm.hw.free_frame(pa);
    let before = (vm.usage(), vm.hw.free.len());
    let resident = vm.space(parent).unwrap().pt.entries.len();
    assert!(resident >= 2);
    for limit in 0..resident {
        vm.hw.table_maps = Some(limit);
        let child = vm.new_space(2, b"child").unwrap();
        vm.hw.table_maps = None;
        let copy = vm.fork_space(parent, child);
        assert_eq!(copy, Err(VmError::OutOfMemory), "maps limited to {limit}");
        vm.destroy_space(child).unwrap();
        assert_eq!(
            (vm.usage(), vm.hw.free.len()),
            before,
            "leak after {limit} maps"
        );
    }
    // No kernel memory for the child's SPT at all.
    let child = vm.new_space(2, b"child").unwrap();
    test_budget::fail_after(0);
    assert_eq!(vm.fork_space(parent, child), Err(VmError::OutOfMemory));
    test_budget::unlimited();
    vm.destroy_space(child).unwrap();
    assert_eq!((vm.usage(), vm.hw.free.len()), before);
    for i in 0..10 {
        assert_eq!(read(&mut vm, parent, stack(i)), 1 + i as u8);
    }
    teardown(vm, 12);
}

#[test]
fn fork_refuses_when_memory_is_already_short() {
    let mut vm = machine(20, 0);
    let parent = process(&mut vm, 1);
    for i in 0..8 {
        write(&mut vm, parent, stack(i), 1);
    }
    // 12 free frames, no swap: below the headroom of 16.
    let child = vm.new_space(2, b"child").unwrap();
    assert_eq!(vm.fork_space(parent, child), Err(VmError::OutOfMemory));
    vm.destroy_space(child).unwrap();
    teardown(vm, 20);
}

#[test]
fn a_shared_frame_is_evicted_from_every_sharer() {
    let mut vm = machine(20, 32);
    let parent = process(&mut vm, 1);
    write(&mut vm, parent, stack(0), 42);
    let child = vm.new_space(2, b"child").unwrap();
    vm.fork_space(parent, child).unwrap();
    vm.activate(child).unwrap();
    let shared = mapped(&vm, parent, stack(0)).unwrap();
    // Fill memory with other pages until the shared frame goes.
    let mut i = 1;
    while mapped(&vm, parent, stack(0)).is_some() {
        write(&mut vm, child, stack(i), 1);
        i += 1;
    }
    assert!(
        mapped(&vm, child, stack(0)).is_none(),
        "unmapped from every sharer"
    );
    let page = UserPage::containing(stack(0)).unwrap();
    let slot = match vm
        .space(parent)
        .unwrap()
        .spt
        .find(page)
        .unwrap()
        .fill_source()
    {
        super::page::Source::Swap(slot) => slot,
        other => panic!("the shared page is not in swap: {other:?}"),
    };
    assert_eq!(vm.swap.shares(slot), 2, "one slot, shared");
    assert!(!vm.hw.free.contains(&shared) || vm.frames.shares(vm.frames.id_of(shared)) == 0);
    assert_eq!(read(&mut vm, child, stack(0)), 42);
    assert_eq!(read(&mut vm, parent, stack(0)), 42);
    write(&mut vm, parent, stack(0), 43);
    assert_eq!(read(&mut vm, child, stack(0)), 42, "copied on swap-in");
    teardown(vm, 20);
}

/// A file mapping of `file` (`len` bytes) at `addr`.
fn map(
    vm: &mut Vm<FakeHw>,
    id: SpaceId,
    addr: u64,
    len: u64,
    file: &Arc<MemFile>,
) -> Result<u64, MmapError> {
    let n = file.bytes().len() as u64;
    let args = MmapArgs {
        addr,
        length: len,
        writable: true,
        offset: 0,
    };
    vm.mmap(id, args, file.clone(), n)
}

#[test]
fn mmap_regions_overlap_rules_and_write_back() {
    let mut vm = machine(8, 0);
    let id = process(&mut vm, 1);
    let file = Arc::new(MemFile::new((0..6000u32).map(|i| i as u8).collect()));
    assert_eq!(map(&mut vm, id, 0x1000_0000, 6000, &file), Ok(0x1000_0000));
    assert_eq!(
        map(&mut vm, id, 0x1000_1000, 10, &file),
        Err(MmapError::Overlap)
    );
    assert_eq!(
        map(&mut vm, id, 0x0fff_f000, 0x2000, &file),
        Err(MmapError::Overlap)
    );
    assert_eq!(
        map(&mut vm, id, stack(200), 10, &file),
        Err(MmapError::Overlap),
        "the stack's 1 MiB is reserved"
    );
    let empty = Arc::new(MemFile::new(Vec::new()));
    assert_eq!(
        map(&mut vm, id, 0x2000_0000, 10, &empty),
        Err(MmapError::EmptyFile)
    );
    // Any length that fits the address space costs nothing until touched.
    assert_eq!(
        map(&mut vm, id, 0x40_0000_0000, 200 << 30, &file),
        Ok(0x40_0000_0000)
    );
    assert_eq!(read(&mut vm, id, 0x40_0000_0000 + 100), 100);
    assert_eq!(read(&mut vm, id, 0x40_0000_0000 + (100 << 30)), 0);
    assert_eq!(vm.space(id).unwrap().spt.len(), 2);
    vm.munmap(id, 0x40_0000_0000);
    assert_eq!(vm.space(id).unwrap().spt.len(), 0);
    // The first mapping: bytes in, a write goes back to the file at munmap.
    assert_eq!(read(&mut vm, id, 0x1000_0000 + 5), 5);
    assert_eq!(read(&mut vm, id, 0x1000_1000 + 1900), (5996u32 % 256) as u8);
    assert_eq!(
        read(&mut vm, id, 0x1000_1000 + 2000),
        0,
        "past the file's end"
    );
    write(&mut vm, id, 0x1000_0000 + 7, 0xee);
    vm.munmap(id, 0x1000_0000);
    assert_eq!(file.bytes()[7], 0xee);
    assert_eq!(file.bytes().len(), 6000, "files never grow");
    let got = vm.handle_fault(
        id,
        0x1000_0000,
        Access::default(),
        LOW_RSP,
        &mut FaultTimer::start(0),
    );
    assert_eq!(got, Err(Invalid::NoPage), "unmapped");
    assert_eq!(
        map(&mut vm, id, 0x1000_0000, 10, &file),
        Ok(0x1000_0000),
        "the range is free again"
    );
    teardown(vm, 8);
}

#[test]
fn file_pages_are_written_back_on_eviction_and_never_swapped() {
    let mut vm = machine(4, 32);
    let id = process(&mut vm, 1);
    let file = Arc::new(MemFile::new(vec![0; 8 * PAGE as usize]));
    map(&mut vm, id, 0x1000_0000, 8 * PAGE, &file).unwrap();
    for i in 0..8 {
        write(&mut vm, id, 0x1000_0000 + i * PAGE, 1 + i as u8);
    }
    assert_eq!(vm.swap_usage().0, 0);
    for i in 0..8 {
        assert_eq!(read(&mut vm, id, 0x1000_0000 + i * PAGE), 1 + i as u8);
    }
    teardown(vm, 4);
    for i in 0..8usize {
        assert_eq!(
            file.bytes()[i * PAGE as usize],
            1 + i as u8,
            "page {i} written back"
        );
    }
}

#[test]
fn teardown_releases_every_page_state() {
    let mut vm = machine(8, 32);
    let parent = process(&mut vm, 1);
    let file = Arc::new(MemFile::new(vec![0; 2 * PAGE as usize]));
    map(&mut vm, parent, 0x1000_0000, 2 * PAGE, &file).unwrap();
    write(&mut vm, parent, 0x1000_0000, 5); // a dirty file page
    read(&mut vm, parent, 0x1000_0000 + PAGE); // a clean one
    for i in 0..10 {
        write(&mut vm, parent, stack(i), i as u8); // resident and swapped
    }
    for i in 10..12 {
        read(&mut vm, parent, stack(i)); // dropped clean, then lazy
    }
    let child = vm.new_space(2, b"child").unwrap();
    vm.fork_space(parent, child).unwrap(); // shared frames and slots
    vm.activate(child).unwrap();
    write(&mut vm, child, stack(0), 77); // one private copy
    teardown(vm, 8);
    assert_eq!(file.bytes()[0], 5);
}

/// An executable image: `rw_pages` writable pages of zeros at 0x400000 after
/// one read-only, executable page read from a file.
fn image(vm: &mut Vm<FakeHw>, id: SpaceId, rw_pages: u64) {
    let file: Arc<dyn Backing> = Arc::new(MemFile::new(vec![0xc3; PAGE as usize]));
    let mut segments = vec![Segment {
        vaddr: 0x400000,
        mem_size: PAGE,
        file_offset: 0,
        file_size: PAGE,
        writable: false,
        executable: true,
    }];
    if rw_pages > 0 {
        segments.push(Segment {
            vaddr: 0x402000,
            mem_size: rw_pages * PAGE,
            file_offset: 0,
            file_size: 0,
            writable: true,
            executable: false,
        });
    }
    let elf = ElfImage {
        entry: 0x400000,
        segments,
    };
    let image = Arc::new(Image { file, elf });
    for (start, end) in image.elf.page_runs() {
        let region = Region {
            start: UserPage::at(start).unwrap(),
            end: UserPage::at(end).unwrap(),
            kind: Kind::Image(image.clone()),
        };
        vm.space_mut(id).unwrap().regions.insert(region).unwrap();
    }
}

#[test]
fn executable_regions_have_their_segments_rights_and_gaps() {
    let mut vm = machine(8, 0);
    let id = process(&mut vm, 1);
    image(&mut vm, id, 2);
    let fetch = Access {
        write: false,
        fetch: true,
    };
    let mut t = FaultTimer::start(0);
    assert_eq!(
        vm.handle_fault(id, 0x400000, fetch, LOW_RSP, &mut t),
        Ok(FaultKind::LazyFile)
    );
    assert_eq!(read(&mut vm, id, 0x400010), 0xc3);
    let write = Access {
        write: true,
        fetch: false,
    };
    assert_eq!(
        vm.handle_fault(id, 0x400000, write, LOW_RSP, &mut t),
        Err(Invalid::ReadOnly)
    );
    assert_eq!(
        vm.handle_fault(id, 0x401000, write, LOW_RSP, &mut t),
        Err(Invalid::NoPage),
        "a gap between segments"
    );
    assert_eq!(
        vm.handle_fault(id, 0x402000, write, LOW_RSP, &mut t),
        Ok(FaultKind::LazyAnon)
    );
    assert_eq!(
        vm.handle_fault(id, 0x403000, fetch, LOW_RSP, &mut t),
        Err(Invalid::NoExec),
        "data is not executable"
    );
    teardown(vm, 8);
}

#[test]
fn with_nothing_to_evict_the_largest_process_is_killed() {
    let mut vm = machine(8, 0);
    let big = process(&mut vm, 1);
    let small = process(&mut vm, 2);
    for i in 0..6 {
        write(&mut vm, big, stack(i), 1);
    }
    write(&mut vm, small, stack(0), 2);
    write(&mut vm, small, stack(1), 2);
    // Memory is full of dirty pages and there is no swap.
    write(&mut vm, small, stack(2), 3);
    assert_eq!(vm.hw.kills, vec![(1, b"proc".to_vec())]);
    assert!(vm.is_dead(big));
    let got = vm.handle_fault(
        big,
        stack(0),
        Access::default(),
        LOW_RSP,
        &mut FaultTimer::start(0),
    );
    assert_eq!(
        got,
        Err(Invalid::Killed),
        "the reaped process cannot fault back in"
    );
    assert_eq!(read(&mut vm, small, stack(0)), 2);
    // Now the small one is the largest: asking for more gets it refused.
    for i in 3..8 {
        write(&mut vm, small, stack(i), 4);
    }
    let got = vm.handle_fault(
        small,
        stack(8),
        Access::default(),
        LOW_RSP,
        &mut FaultTimer::start(0),
    );
    assert_eq!(got, Err(Invalid::OutOfMemory));
    assert_eq!(
        vm.hw.kills.len(),
        1,
        "the requester is not reported by the VM"
    );
    teardown(vm, 8);
}

#[test]
fn stalled_reclaim_kills_instead_of_livelocking() {
    // Eight frames, no swap: a big process holds six dirty pages; a small
    // one holds one and cycles through three pages in the one frame left.
    // Almost every victim eviction chooses is a dirty page it cannot save.
    let mut vm = machine(8, 0);
    let big = process(&mut vm, 1);
    let small = process(&mut vm, 2);
    image(&mut vm, small, 0);
    for i in 0..6 {
        write(&mut vm, big, stack(i), 1);
    }
    write(&mut vm, small, stack(0), 2);
    // One executable page plus two stack pages read in turn.
    let cycle = [0x400000, stack(1), stack(2)];
    let mut rounds = 0;
    while vm.hw.kills.is_empty() {
        for &va in &cycle {
            read(&mut vm, small, va);
        }
        rounds += 1;
        assert!(rounds < 1000, "reclaim stalled forever");
    }
    assert_eq!(vm.hw.kills, vec![(1, b"proc".to_vec())]);
    assert!(vm.is_dead(big));
    for &va in &cycle {
        read(&mut vm, small, va);
    }
    teardown(vm, 8);
}

#[test]
fn a_fault_without_kernel_memory_fails_alone() {
    let mut vm = machine(8, 0);
    let id = process(&mut vm, 1);
    test_budget::fail_after(0);
    let got = vm.handle_fault(
        id,
        stack(0),
        Access::default(),
        LOW_RSP,
        &mut FaultTimer::start(0),
    );
    test_budget::unlimited();
    assert_eq!(got, Err(Invalid::OutOfMemory));
    assert_eq!(read(&mut vm, id, stack(0)), 0, "the next try works");
    teardown(vm, 8);
}

#[test]
fn mapping_pages_report_their_file_bytes() {
    let file: Arc<dyn Backing> = Arc::new(MemFile::new(vec![1; 10_000]));
    let m = super::file::Mapping {
        file,
        offset: 0,
        file_len: 10_000,
        writable: false,
    };
    assert_eq!(m.page_bytes(0), (0, 4096));
    assert_eq!(m.page_bytes(2), (8192, 10_000 - 8192));
    assert_eq!(m.page_bytes(3), (12288, 0));
}

#[test]
fn a_resident_page_missing_from_its_table_is_mapped_again() {
    let mut vm = machine(8, 0);
    let id = process(&mut vm, 1);
    write(&mut vm, id, stack(0), 9);
    let page = UserPage::containing(stack(0)).unwrap();
    vm.space_mut(id).unwrap().pt.entries.remove(&page);
    let got = vm.handle_fault(
        id,
        stack(0),
        Access::default(),
        LOW_RSP,
        &mut FaultTimer::start(0),
    );
    assert_eq!(got, Ok(FaultKind::Resident));
    assert!(
        mapped(&vm, id, stack(0)).is_some(),
        "mapped again, no fault loop"
    );
    assert_eq!(read(&mut vm, id, stack(0)), 9);
    teardown(vm, 8);
}

#[test]
fn paging_that_saves_its_victims_is_progress_not_a_stall() {
    // Five times the pool, passed over three times: every victim is saved
    // (to swap, or dropped clean), so nobody is killed.
    let mut vm = machine(8, 64);
    let id = process(&mut vm, 1);
    for pass in 0..3u8 {
        for i in 0..40 {
            write(&mut vm, id, stack(i), pass + i as u8);
        }
    }
    for i in 0..40 {
        assert_eq!(read(&mut vm, id, stack(i)), 2 + i as u8);
    }
    assert!(vm.hw.kills.is_empty(), "killed: {:?}", vm.hw.kills);
    teardown(vm, 8);
}
