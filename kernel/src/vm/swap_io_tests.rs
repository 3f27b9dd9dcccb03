//! Host tests of how swap I/O is grouped: every disk request is an exit to
//! the VMM, so an eviction batch goes to the disk in one transfer even when
//! the free slots are scattered, and a swap-in reads the pages above the
//! faulting one wherever their slots are, in one transfer with it.
use super::hw::Hw;
use super::tests::{machine, mapped, process, read, stack, teardown, write};
use super::{SwapSlot, Vm, fake::FakeHw};

/// Leaves only the odd slots of the swap disk free; returns the even ones,
/// for [`give_back`].
fn scatter_free_slots(vm: &mut Vm<FakeHw>) -> Vec<SwapSlot> {
    let all: Vec<SwapSlot> = std::iter::from_fn(|| vm.swap.alloc()).collect();
    let (even, odd): (Vec<SwapSlot>, Vec<SwapSlot>) = all.into_iter().partition(|s| s.0 % 2 == 0);
    for slot in odd {
        vm.swap.unreserve(slot);
    }
    even
}

/// A machine of 8 frames and 64 slots, only the odd slots free, whose one
/// process wrote `base + i` to stack pages `0..8` and had them all evicted;
/// with the even slots, for [`give_back`].
fn evicted_to_scattered_slots(base: u8) -> (Vm<FakeHw>, super::SpaceId, Vec<SwapSlot>) {
    let mut vm = machine(8, 64);
    let id = process(&mut vm, 1);
    let taken = scatter_free_slots(&mut vm);
    for i in 0..8 {
        write(&mut vm, id, stack(i), base + i as u8);
    }
    let (pa, _) = vm.evict_batch().unwrap();
    vm.hw.free_frame(pa);
    (vm, id, taken)
}

fn give_back(vm: &mut Vm<FakeHw>, slots: Vec<SwapSlot>) {
    for slot in slots {
        vm.swap.unreserve(slot);
    }
}

#[test]
fn a_batch_goes_in_one_transfer_to_scattered_slots() {
    let (mut vm, id, taken) = evicted_to_scattered_slots(30);
    assert_eq!(vm.hw.swap_writes, 1, "eight scattered slots, one transfer");
    assert_eq!(vm.swap_usage().0, 32 + 8);
    for i in 0..8 {
        assert!(mapped(&vm, id, stack(i)).is_none(), "page {i} was evicted");
    }
    for i in 0..8 {
        assert_eq!(read(&mut vm, id, stack(i)), 30 + i as u8, "page {i}");
    }
    give_back(&mut vm, taken);
    teardown(vm, 8);
}

#[test]
fn swap_in_reads_the_pages_above_wherever_their_slots_are() {
    let (mut vm, id, taken) = evicted_to_scattered_slots(40);
    // Stack page 7 is the lowest: the seven above it come with it.
    let reads = vm.hw.swap_reads;
    assert_eq!(read(&mut vm, id, stack(7)), 47);
    assert_eq!(vm.hw.swap_reads, reads + 1);
    for i in 0..7 {
        assert!(mapped(&vm, id, stack(i)).is_some(), "page {i} came along");
        assert_eq!(read(&mut vm, id, stack(i)), 40 + i as u8, "page {i}");
    }
    assert_eq!(vm.hw.swap_reads, reads + 1, "nothing else was read");
    give_back(&mut vm, taken);
    teardown(vm, 8);
}
