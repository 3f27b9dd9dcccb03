//! `multi-oom`: the Pintos test of the same name, ported: forks a chain of
//! processes until `fork` fails, at least 10 deep; every process opens up
//! to 126 files (half of the time through `dup2` to high descriptors, as the
//! Pintos dup2 variant does) and never closes them; above level 5 every
//! level also forks a child that takes the same resources and then dies
//! badly (NULL or kernel-address access, a bad pointer to `open`). The chain
//! is built 10 more times, each at least as deep as the first: the kernel
//! must give every resource back and fail `fork` cleanly every time.
#![no_std]
#![no_main]

use ulib::{cformat, check, fail, fault, msg, sys};

ulib::entry!(main);

const EXPECTED_DEPTH_TO_PASS: i32 = 10;
const EXPECTED_REPETITIONS: i32 = 10;
/// Files each process opens.
const FD_MAX: i32 = 126;
/// `KERN_BASE` of the Pintos test.
const KERN_BASE: u64 = 0x80_0400_0000;

/// The Pintos test's `random_ulong`, reseeded per level like `random_init (i)`.
struct Random(u64);

impl Random {
    fn new(seed: i32) -> Random {
        Random(seed as u64 ^ 0x9e37_79b9_7f4a_7c15)
    }

    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

/// Opens this program's file up to [`FD_MAX`] times and never closes it;
/// every other time through `dup2` of an open descriptor to a high one. A
/// failed `open` or `dup2` (the kernel low on memory) just stops.
fn consume_some_resources(rng: &mut Random) {
    for fd in 0..FD_MAX {
        if fd != 0 && rng.next() & 1 == 1 {
            if sys::dup2((rng.next() % fd as u64) as i32, fd + FD_MAX) == -1
                || sys::open(c"multi-oom") == -1
            {
                break;
            }
        } else if sys::open(c"multi-oom") == -1 {
            break;
        }
    }
}

/// Takes resources, then ends badly.
fn consume_some_resources_and_die(rng: &mut Random) -> ! {
    consume_some_resources(rng);
    match rng.next() % 5 {
        0 => fault::write_u32(0, 42),
        1 => {
            fault::read_u32(0);
        }
        2 => {
            fault::read_u32(KERN_BASE);
        }
        3 => fault::write_u32(KERN_BASE, 42),
        _ => {
            sys::open_raw(KERN_BASE as *const u8);
            sys::exit(-1);
        }
    }
    fail!("Unreachable");
}

/// One chain; returns its depth (in the first process).
fn make_children() -> i32 {
    let mut i = 0;
    let pid = loop {
        let mut rng = Random::new(i);
        if i > EXPECTED_DEPTH_TO_PASS / 2 {
            let name = cformat!("child_{i}_X");
            let pid = sys::fork(name.as_cstr());
            if pid > 0 && sys::wait(pid) != -1 {
                fail!("crashed child should return -1.");
            } else if pid == 0 {
                consume_some_resources_and_die(&mut rng);
            }
        }
        let name = cformat!("child_{i}_O");
        let pid = sys::fork(name.as_cstr());
        if pid < 0 {
            sys::exit(i);
        } else if pid == 0 {
            consume_some_resources(&mut rng);
            i += 1;
        } else {
            break pid;
        }
    };
    let depth = sys::wait(pid);
    if depth < 0 {
        fail!("Should return > 0.");
    }
    if i == 0 { depth } else { sys::exit(depth) }
}

fn main(_args: &[&str]) -> i32 {
    msg!("begin");
    let first_run_depth = make_children();
    check!(
        first_run_depth >= EXPECTED_DEPTH_TO_PASS,
        "Spawned at least {EXPECTED_DEPTH_TO_PASS} children."
    );
    for _ in 0..EXPECTED_REPETITIONS {
        let current_run_depth = make_children();
        if current_run_depth < first_run_depth {
            fail!(
                "should have forked at least {first_run_depth} times, but {current_run_depth} times forked"
            );
        }
    }
    msg!("success. Program forked {EXPECTED_REPETITIONS} iterations.");
    msg!("end");
    0
}
