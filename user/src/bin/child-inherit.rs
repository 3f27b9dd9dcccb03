//! `child-inherit`: writes to the address where its parent process had a
//! mapping before `exec`; exec must have discarded it, so the write kills the
//! process (Pintos `child-inherit`, the child of `mmap-inherit`).
#![no_std]
#![no_main]

use ulib::vmtest::{MAP_ADDR, PAGE};
use ulib::{fail, fault};

ulib::test_main!(body);

fn body(_args: &[&str]) {
    for off in (0..PAGE).step_by(1024) {
        fault::write_u32((MAP_ADDR + off) as u64, 0);
    }
    fail!("child can modify parent's memory mappings");
}
