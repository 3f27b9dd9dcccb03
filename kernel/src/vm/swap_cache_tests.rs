//! Host tests of the swap cache ([`super::swap_cache`]): a page read back
//! from swap and evicted again unwritten costs no disk write; a page written
//! after its swap-in goes to a fresh slot and gives its stale one back; a
//! full swap disk takes the cached slots of clean resident pages back
//! rather than failing the eviction; and forked pages share a cached slot
//! and go back to it together.
use super::tests::{machine, process, read, stack, teardown, write};

/// Writes stack pages `0..n` with `base + i`, evicts them to swap and reads
/// them all back (the swap cache now holds their slots).
fn swapped_and_back(vm: &mut super::Vm<super::fake::FakeHw>, id: super::SpaceId, n: u64, base: u8) {
    for i in 0..n {
        write(vm, id, stack(i), base + i as u8);
    }
    let (pa, _) = vm.evict_batch().unwrap();
    use super::hw::Hw;
    vm.hw.free_frame(pa);
    for i in 0..n {
        assert_eq!(read(vm, id, stack(i)), base + i as u8);
    }
}

#[test]
fn a_page_read_back_and_evicted_unwritten_costs_no_write() {
    let mut vm = machine(8, 32);
    let id = process(&mut vm, 1);
    swapped_and_back(&mut vm, id, 8, 10);
    assert_eq!(vm.hw.swap_writes, 1);
    assert_eq!(vm.swap_usage().0, 8, "the pages keep their slots");
    assert_eq!(vm.cached_slots(), 8, "held by the cache alone");
    let (pa, _) = vm.evict_batch().unwrap();
    use super::hw::Hw;
    vm.hw.free_frame(pa);
    assert_eq!(vm.hw.swap_writes, 1, "clean pages go back to their slots");
    assert_eq!(vm.swap_usage().0, 8);
    assert_eq!(vm.cached_slots(), 0, "held by swapped pages again");
    for i in 0..8 {
        assert_eq!(read(&mut vm, id, stack(i)), 10 + i as u8);
    }
    teardown(vm, 8);
}

#[test]
fn a_page_written_after_swap_in_gets_a_fresh_slot() {
    let mut vm = machine(8, 32);
    let id = process(&mut vm, 1);
    swapped_and_back(&mut vm, id, 8, 10);
    write(&mut vm, id, stack(3), 99);
    let (pa, _) = vm.evict_batch().unwrap();
    use super::hw::Hw;
    vm.hw.free_frame(pa);
    assert_eq!(vm.hw.swap_writes, 2, "only the written page is written");
    assert_eq!(vm.swap_usage().0, 8, "its stale slot was given back");
    for i in 0..8 {
        let want = if i == 3 { 99 } else { 10 + i as u8 };
        assert_eq!(read(&mut vm, id, stack(i)), want, "page {i}");
    }
    teardown(vm, 8);
}

#[test]
fn a_full_swap_disk_takes_the_cached_slots_back() {
    // 16 frames, 8 slots: the eight pages read back hold every slot.
    let mut vm = machine(16, 8);
    let id = process(&mut vm, 1);
    swapped_and_back(&mut vm, id, 8, 10);
    assert_eq!(vm.swap_usage(), (8, 8));
    for i in 8..16 {
        write(&mut vm, id, stack(i), 10 + i as u8);
    }
    // Only the eight new, dirty pages are idle: they are the victims.
    let space = vm.space_mut(id).unwrap();
    for i in 8..16 {
        let page = super::UserPage::containing(stack(i)).unwrap();
        space.pt.entries.get_mut(&page).unwrap().accessed = false;
    }
    let writes = vm.hw.swap_writes;
    let (pa, _) = vm.evict_batch().unwrap();
    use super::hw::Hw;
    vm.hw.free_frame(pa);
    assert_eq!(
        vm.hw.swap_writes,
        writes + 1,
        "the batch was written at once"
    );
    assert_eq!(vm.swap_usage(), (8, 8), "in the slots the cache gave back");
    for i in 0..8 {
        assert!(
            super::tests::mapped(&vm, id, stack(i)).is_some(),
            "page {i} stayed"
        );
    }
    // The pages that gave their slots up are saved when they go in turn.
    for round in 0..2 {
        for i in 0..16 {
            assert_eq!(
                read(&mut vm, id, stack(i)),
                10 + i as u8,
                "round {round} page {i}"
            );
        }
    }
    teardown(vm, 16);
}

#[test]
fn forked_pages_share_their_cached_slot() {
    let mut vm = machine(8, 16);
    let parent = process(&mut vm, 1);
    swapped_and_back(&mut vm, parent, 4, 20);
    let child = vm.new_space(2, b"child").unwrap();
    vm.fork_space(parent, child).unwrap();
    vm.activate(child).unwrap();
    assert_eq!(vm.swap_usage().0, 4, "the child shares the parent's slots");
    assert_eq!(vm.cached_slots(), 4);
    let writes = vm.hw.swap_writes;
    let (pa, _) = vm.evict_batch().unwrap();
    use super::hw::Hw;
    vm.hw.free_frame(pa);
    assert_eq!(
        vm.hw.swap_writes, writes,
        "shared clean pages need no write"
    );
    write(&mut vm, child, stack(0), 77);
    for i in 0..4 {
        assert_eq!(read(&mut vm, parent, stack(i)), 20 + i as u8, "parent {i}");
        let want = if i == 0 { 77 } else { 20 + i as u8 };
        assert_eq!(read(&mut vm, child, stack(i)), want, "child {i}");
    }
    teardown(vm, 8);
}
