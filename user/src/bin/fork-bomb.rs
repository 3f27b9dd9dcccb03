//! `fork-bomb`: forks a chain of processes until `fork` fails (in the spirit of
//! Pintos `multi-oom`), at least 10 deep. Below level 5 every level also forks a
//! doomed child that opens files and then dies by a bad access, a bad pointer or
//! exit(-1). Each process of the chain touches private memory and leaves files
//! open. The chain is built four times; every later round must get as deep as the
//! first, which shows that exits and kills return every frame, page table,
//! descriptor and process slot.
#![no_std]
#![no_main]

use core::cell::UnsafeCell;

use ulib::{abi, cformat, check, fail, fault, msg, sys};

ulib::entry!(main);

/// Depth the first round must reach.
const MIN_DEPTH: i32 = 10;
/// Rounds after the first.
const MORE_ROUNDS: i32 = 3;
/// A chain this deep counts as "fork never failed" and stops.
const MAX_DEPTH: i32 = 1000;
/// Files each process of the chain leaves open.
const FILES_KEPT: usize = 8;
/// Pages of private memory each process of the chain writes.
const SCRATCH_PAGES: usize = 4;

#[repr(C, align(4096))]
struct Scratch(UnsafeCell<[u8; SCRATCH_PAGES * 4096]>);

// SAFETY: every process is single-threaded; the area is only written through
// raw pointers in `touch_scratch`.
unsafe impl Sync for Scratch {}

static SCRATCH: Scratch = Scratch(UnsafeCell::new([0; SCRATCH_PAGES * 4096]));

/// Writes one byte per scratch page so that the process owns private copies.
fn touch_scratch(level: i32) {
    let base = SCRATCH.0.get().cast::<u8>();
    for page in 0..SCRATCH_PAGES {
        // SAFETY: `page * 4096` is inside SCRATCH.
        unsafe { base.add(page * 4096).write_volatile(level as u8) };
    }
}

/// Opens this program's file `n` times and never closes it.
fn leave_files_open(n: usize) {
    for _ in 0..n {
        if sys::open(c"fork-bomb") < 0 {
            break;
        }
    }
}

/// Takes some resources, then dies in a way chosen by `level`.
fn die_badly(level: i32) -> ! {
    touch_scratch(level);
    leave_files_open(2 * FILES_KEPT);
    match level % 6 {
        0 => fault::write_u32(0, 42),
        1 => {
            fault::read_u32(0);
        }
        2 => {
            fault::read_u32(abi::layout::USER_LIMIT);
        }
        3 => fault::write_u32(0xffff_ffff_8020_0000, 42),
        4 => {
            sys::open_raw(abi::layout::USER_LIMIT as *const u8);
        }
        _ => sys::exit(-1),
    }
    fail!("child {level} survived a bad access");
}

/// Builds one chain; returns how deep it got.
fn make_children() -> i32 {
    let mut level = 0;
    let pid = loop {
        if level > MIN_DEPTH / 2 {
            let name = cformat!("d{level}");
            let pid = sys::fork(name.as_cstr());
            if pid == 0 {
                die_badly(level);
            }
            if pid > 0 && sys::wait(pid) != -1 {
                fail!("a killed child must return -1");
            }
        }
        if level >= MAX_DEPTH {
            sys::exit(level);
        }
        let name = cformat!("c{level}");
        let pid = sys::fork(name.as_cstr());
        if pid < 0 {
            if level == 0 {
                return 0;
            }
            sys::exit(level);
        }
        if pid == 0 {
            touch_scratch(level);
            leave_files_open(FILES_KEPT);
            level += 1;
            continue;
        }
        break pid;
    };
    let depth = sys::wait(pid);
    if depth < 0 {
        fail!("wait() for the chain below level {level} returned {depth}");
    }
    if level == 0 { depth } else { sys::exit(depth) }
}

fn main(_args: &[&str]) -> i32 {
    msg!("begin");
    let first = make_children();
    check!(first >= MIN_DEPTH, "spawned at least {MIN_DEPTH} children");
    for round in 0..MORE_ROUNDS {
        let depth = make_children();
        if depth < first {
            fail!(
                "round {}: forked {depth} deep, less than the first round's {first}",
                round + 2
            );
        }
    }
    msg!(
        "success: {} rounds forked as deep as the first",
        MORE_ROUNDS + 1
    );
    msg!("end");
    0
}
