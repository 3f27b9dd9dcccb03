//! `mmap-bomb`: eight processes at once each map one page of a file over
//! and over, at consecutive addresses, until `mmap` refuses (NULL): the
//! kernel's memory for mappings or a process's mapping limit runs out, and
//! `mmap` must fail cleanly. Every twentieth mapping is read to prove the
//! mappings work. The parent then checks that every child got many
//! mappings and was refused, and that the kernel works afterwards.
#![no_std]
#![no_main]

use ulib::vmtest::PAGE;
use ulib::{cformat, check, health, sys};

ulib::test_main!(body);

const CHILDREN: usize = 8;
/// Where the children's mappings start.
const BASE: usize = 0x10_0000_0000;
/// A child that maps more than this never saw `mmap` fail.
const MAX_MAPS: usize = 1 << 20;
/// The file's first byte.
const MARK: u8 = 0x6d;

/// Maps the file until refused; exits 0 if it got at least 100 mappings,
/// every one read back right, and was refused in the end.
fn child(index: usize) -> ! {
    let fd = sys::open(c"bomb.dat");
    if fd < 0 {
        sys::exit(2);
    }
    let base = BASE + index * (MAX_MAPS + 1) * PAGE;
    let mut n = 0;
    while n < MAX_MAPS {
        let at = (base + n * PAGE) as *mut u8;
        let map = sys::mmap(at, PAGE, false, fd, 0);
        if map.is_null() {
            break;
        }
        // SAFETY: `map` is a one-page mapping of the file.
        if n % 20 == 0 && unsafe { map.read_volatile() } != MARK {
            sys::exit(3);
        }
        n += 1;
    }
    sys::exit(if (100..MAX_MAPS).contains(&n) { 0 } else { 1 });
}

fn body(_args: &[&str]) {
    check!(sys::create(c"bomb.dat", 16), "create \"bomb.dat\"");
    let fd = sys::open(c"bomb.dat");
    check!(sys::write(fd, &[MARK; 16]) == 16, "write \"bomb.dat\"");
    sys::close(fd);
    let mut pids = [0; CHILDREN];
    for (i, pid) in pids.iter_mut().enumerate() {
        let name = cformat!("bomber{i}");
        *pid = sys::fork(name.as_cstr());
        if *pid == 0 {
            child(i);
        }
    }
    let all = pids.iter().all(|&pid| pid > 0 && sys::wait(pid) == 0);
    check!(all, "every process mapped many pages until mmap refused");
    health::still_works();
}
