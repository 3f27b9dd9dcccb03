//! `spin`: prints `spin: running` and then loops forever (until the VM is
//! stopped from outside: a timeout or a signal to the VMM).
#![no_std]
#![no_main]

use ulib::{println, sys};

ulib::entry!(main);

fn main(_args: &[&str]) -> i32 {
    println!("spin: running");
    let mut n = 0u64;
    loop {
        n = n.wrapping_add(sys::null() as u64 + 1);
        core::hint::black_box(n);
    }
}
