//! `exit-spin`: forks a child that exits with 7 without printing
//! anything, waits for it, then spins until the VM's `--timeout`, printing
//! nothing either. The kernel holds a process's exit line back until its
//! next console flush (at most a timer tick later), and a VMM that stops
//! the run writes out what the kernel holds, so the child's
//! `quiet-child: exit(7)` must reach the console whenever the timeout comes.
#![no_std]
#![no_main]

use ulib::sys;

ulib::entry!(main);

fn main(_args: &[&str]) -> i32 {
    let pid = sys::fork(c"quiet-child");
    if pid == 0 {
        sys::exit(7);
    }
    if sys::wait(pid) != 7 {
        return 1;
    }
    loop {
        core::hint::spin_loop();
    }
}
