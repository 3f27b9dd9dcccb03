//! Host tests of swap-in read-ahead by address on the fake machine: an
//! array read forwards or backwards after it went to swap comes back a run
//! of pages per disk request, whichever way it is read; faults at random
//! read little ahead, and a scan after them reads whole runs again.
use super::tests::{machine, process, read, stack, teardown, write};

/// Pages written, far more than the machine's frames.
const PAGES: u64 = 48;
const FRAMES: usize = 16;

/// A space whose stack pages `0..pages` hold `1 + i` (mod 256), written in
/// ascending address order (page `pages - 1` first), so that the swap slots
/// they get ascend with their addresses, as an array's do.
fn swapped_array(pages: u64) -> (super::Vm<super::fake::FakeHw>, super::addr::SpaceId) {
    let mut vm = machine(FRAMES, pages as usize + 64);
    let id = process(&mut vm, 1);
    for i in (0..pages).rev() {
        write(&mut vm, id, stack(i), (1 + i) as u8);
    }
    assert!(vm.swap_usage().0 as u64 >= pages - FRAMES as u64);
    (vm, id)
}

/// Reads the array's pages in `order`, checking each, and requires at most
/// one disk request per four pages.
fn read_in_order(order: impl Iterator<Item = u64>, way: &str) {
    let (mut vm, id) = swapped_array(PAGES);
    let reads = vm.hw.swap_reads;
    for i in order {
        assert_eq!(read(&mut vm, id, stack(i)), 1 + i as u8, "page {i}");
    }
    let requests = vm.hw.swap_reads - reads;
    assert!(
        requests as u64 <= PAGES / 4,
        "{requests} disk reads for {PAGES} pages read {way}"
    );
    teardown(vm, FRAMES);
}

#[test]
fn an_array_read_backwards_comes_back_in_runs() {
    // Descending addresses: stack page 0 is the highest.
    read_in_order(0..PAGES, "backwards");
}

#[test]
fn an_array_read_forwards_comes_back_in_runs() {
    read_in_order((0..PAGES).rev(), "forwards");
}

#[test]
fn random_faults_read_little_ahead_and_a_scan_reads_runs_again() {
    use super::{SWAP_READAHEAD, SWAP_READAHEAD_MIN};
    const ARRAY: u64 = 256;
    let (mut vm, id) = swapped_array(ARRAY);
    // Pages far apart, in no order: each swap-in's read-ahead goes unused.
    let scattered = [200, 20, 150, 90, 240, 40, 180, 110, 230, 60, 160, 130];
    let mut per_fault = Vec::new();
    for i in scattered {
        let (reads, pages) = (vm.hw.swap_reads, vm.hw.swap_pages_read);
        assert_eq!(read(&mut vm, id, stack(i)), (1 + i) as u8, "page {i}");
        if vm.hw.swap_reads > reads {
            per_fault.push(vm.hw.swap_pages_read - pages);
        }
    }
    assert!(per_fault.len() >= 6, "{per_fault:?}");
    assert!(
        per_fault[4..].iter().all(|&n| n <= SWAP_READAHEAD_MIN),
        "pages per random swap-in: {per_fault:?}"
    );
    // Then every page in address order: the runs grow back.
    let mut largest = 0;
    for i in (0..ARRAY).rev() {
        let pages = vm.hw.swap_pages_read;
        assert_eq!(read(&mut vm, id, stack(i)), (1 + i) as u8, "page {i}");
        largest = largest.max(vm.hw.swap_pages_read - pages);
    }
    assert!(
        largest > SWAP_READAHEAD_MIN && largest <= SWAP_READAHEAD,
        "largest run {largest}"
    );
    teardown(vm, FRAMES);
}
