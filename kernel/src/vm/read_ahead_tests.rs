//! Host tests of swap-in read-ahead by address on the fake machine: an
//! array read forwards or backwards after it went to swap comes back a run
//! of pages per disk request, whichever way it is read.
use super::tests::{machine, process, read, stack, teardown, write};

/// Pages written, far more than the machine's frames.
const PAGES: u64 = 48;
const FRAMES: usize = 16;

/// A space whose stack pages `0..PAGES` hold `1 + i`, written in ascending
/// address order (page `PAGES - 1` first), so that the swap slots they get
/// ascend with their addresses, as an array's do.
fn swapped_array() -> (super::Vm<super::fake::FakeHw>, super::addr::SpaceId) {
    let mut vm = machine(FRAMES, 128);
    let id = process(&mut vm, 1);
    for i in (0..PAGES).rev() {
        write(&mut vm, id, stack(i), 1 + i as u8);
    }
    assert!(vm.swap_usage().0 as u64 >= PAGES - FRAMES as u64);
    (vm, id)
}

#[test]
fn an_array_read_backwards_comes_back_in_runs() {
    let (mut vm, id) = swapped_array();
    let reads = vm.hw.swap_reads;
    // Descending addresses: stack page 0 is the highest.
    for i in 0..PAGES {
        assert_eq!(read(&mut vm, id, stack(i)), 1 + i as u8, "page {i}");
    }
    let requests = vm.hw.swap_reads - reads;
    assert!(
        requests as u64 <= PAGES / 4,
        "{requests} disk reads for {PAGES} pages read backwards"
    );
    teardown(vm, FRAMES);
}

#[test]
fn an_array_read_forwards_comes_back_in_runs() {
    let (mut vm, id) = swapped_array();
    let reads = vm.hw.swap_reads;
    for i in (0..PAGES).rev() {
        assert_eq!(read(&mut vm, id, stack(i)), 1 + i as u8, "page {i}");
    }
    let requests = vm.hw.swap_reads - reads;
    assert!(
        requests as u64 <= PAGES / 4,
        "{requests} disk reads for {PAGES} pages read forwards"
    );
    teardown(vm, FRAMES);
}
