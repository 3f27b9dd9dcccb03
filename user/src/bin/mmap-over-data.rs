//! `mmap-over-data`: mmap over the program's data fails and the process goes
//! on: over `.data` and `.bss` pages, touched or not yet loaded (Pintos
//! `mmap-over-data`).
#![no_std]
#![no_main]

use ulib::vmtest::{PAGE, PageArray};
use ulib::{check, sys};

ulib::test_main!(body);

static DATA: PageArray<{ 2 * PAGE }> = PageArray::with_pattern(3);
static BSS: PageArray<{ 2 * PAGE }> = PageArray::zeroed();

fn fails(fd: i32, addr: usize) -> bool {
    sys::mmap(addr as *mut u8, PAGE, true, fd, 0).is_null()
}

fn body(_args: &[&str]) {
    let fd = sys::open(c"sample.txt");
    check!(fd > 1, "open \"sample.txt\"");
    let data = DATA.as_ptr() as usize;
    let bss = BSS.as_ptr() as usize;
    check!(
        fails(fd, data + PAGE),
        "mmap over a .data page not loaded yet fails"
    );
    check!(
        fails(fd, bss + PAGE),
        "mmap over a .bss page not loaded yet fails"
    );
    // SAFETY: the first page of each array belongs to this function alone.
    unsafe {
        core::ptr::read_volatile(data as *const u8);
        core::ptr::write_volatile(bss as *mut u8, 1);
    }
    check!(fails(fd, data), "mmap over a loaded .data page fails");
    check!(fails(fd, bss), "mmap over a loaded .bss page fails");
    sys::close(fd);
}
