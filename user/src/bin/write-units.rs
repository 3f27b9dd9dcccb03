//! `write-units`: three children (`unit-a`, `unit-b`, `unit-c`) each write
//! eight lines of `CONSOLE_UNIT - 1` copies of their letter, each line
//! (`CONSOLE_UNIT` bytes with its newline) with one `write`, while the others
//! do the same. A console write
//! of up to `CONSOLE_UNIT` bytes is one unit, so every line must come out
//! whole. The parent waits for the three and exits 0.
#![no_std]
#![no_main]

use abi::syscall::CONSOLE_UNIT;
use ulib::sys;

ulib::entry!(main);

fn main(_args: &[&str]) -> i32 {
    let mut pids = [0; 3];
    for (i, name) in [c"unit-a", c"unit-b", c"unit-c"].iter().enumerate() {
        let pid = sys::fork(name);
        if pid == 0 {
            let mut line = [b'a' + i as u8; CONSOLE_UNIT];
            line[CONSOLE_UNIT - 1] = b'\n';
            for _ in 0..8 {
                if sys::write(1, &line) != CONSOLE_UNIT as i32 {
                    sys::exit(1);
                }
            }
            sys::exit(0);
        }
        pids[i] = pid;
    }
    let mut status = 0;
    for pid in pids {
        status |= sys::wait(pid);
    }
    status
}
