//! `mmap-kernel`: mmap fails, and the process goes on, for ranges in kernel
//! space, ranges that start in user space and reach kernel space, and ranges
//! that wrap around the address space (Pintos `mmap-kernel`).
#![no_std]
#![no_main]

use abi::layout::{DIRECT_MAP_BASE, KERNEL_PHYS_BASE, KERNEL_VIRT_BASE, USER_LIMIT};
use ulib::vmtest::{MAP_ADDR, PAGE};
use ulib::{check, sys};

ulib::test_main!(body);

fn fails(fd: i32, addr: u64, len: usize) -> bool {
    sys::mmap(addr as *mut u8, len, false, fd, 0).is_null()
}

fn body(_args: &[&str]) {
    let fd = sys::open(c"sample.txt");
    check!(fd > 1, "open \"sample.txt\"");
    let page = PAGE as u64;
    check!(
        fails(fd, USER_LIMIT, PAGE),
        "mmap at the first kernel address fails"
    );
    check!(
        fails(fd, USER_LIMIT - page, 2 * PAGE),
        "mmap reaching from user into kernel space fails"
    );
    check!(
        fails(fd, DIRECT_MAP_BASE, PAGE),
        "mmap over the kernel's direct map fails"
    );
    check!(
        fails(fd, KERNEL_VIRT_BASE + KERNEL_PHYS_BASE, PAGE),
        "mmap over the kernel image fails"
    );
    check!(
        fails(fd, u64::MAX - page + 1, 2 * PAGE),
        "mmap wrapping around the top of the address space fails"
    );
    check!(
        fails(fd, MAP_ADDR as u64, usize::MAX - PAGE + 1),
        "mmap of a length that wraps around fails"
    );
    let map = sys::mmap(MAP_ADDR as *mut u8, PAGE, false, fd, 0);
    check!(
        map as usize == MAP_ADDR,
        "mmap in user space still succeeds"
    );
    sys::munmap(map);
    sys::close(fd);
}
