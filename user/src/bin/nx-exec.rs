//! `nx-exec`: only an executable's code may run. A child writes a `ret`
//! instruction into its `.bss`, its `.data`, its stack, a writable file
//! mapping and a read-only one, and calls it: each must be killed
//! (`exit(-1)`) at the instruction fetch. Calling real code still works, and
//! so does the kernel afterwards.
#![no_std]
#![no_main]

use core::cell::UnsafeCell;
use ulib::vmtest::PAGE;
use ulib::{check, health, msg, sys};

ulib::test_main!(body);

/// `ret`.
const RET: u8 = 0xc3;
const MAP_AT: usize = 0x1000_0000;

#[repr(C, align(4096))]
struct Page(UnsafeCell<[u8; PAGE]>);
// SAFETY: the process is single-threaded.
unsafe impl Sync for Page {}
static BSS: Page = Page(UnsafeCell::new([0; PAGE]));
static DATA: Page = Page(UnsafeCell::new([1; PAGE]));

/// Writes `ret` at `at` (unless `write` is false) and calls it.
fn call(at: *mut u8, write: bool) {
    if write {
        // SAFETY: `at` is writable memory of this process.
        unsafe { at.write_volatile(RET) };
    }
    // SAFETY: not safe by design: the kernel must kill the process at the
    // fetch; if it does not, `ret` returns here.
    let f: extern "C" fn() = unsafe { core::mem::transmute(at) };
    f();
}

/// Runs `attempt` in a child; true if the child was killed.
fn killed(attempt: fn()) -> bool {
    let pid = sys::fork(c"nx-child");
    if pid == 0 {
        attempt();
        sys::exit(0);
    }
    sys::wait(pid) == -1
}

fn in_bss() {
    call(BSS.0.get().cast(), true);
}

fn in_data() {
    call(DATA.0.get().cast(), true);
}

fn on_stack() {
    let mut code = [0u8; 16];
    call(core::hint::black_box(&mut code).as_mut_ptr(), true);
}

fn in_mapping(writable: bool) {
    let fd = sys::open(c"code.bin");
    let map = sys::mmap(MAP_AT as *mut u8, PAGE, writable, fd, 0);
    if map.is_null() {
        sys::exit(2);
    }
    call(map, writable);
}

fn in_writable_mapping() {
    in_mapping(true);
}

fn in_read_only_mapping() {
    in_mapping(false);
}

fn body(_args: &[&str]) {
    check!(sys::create(c"code.bin", 16), "create \"code.bin\"");
    let fd = sys::open(c"code.bin");
    sys::write(fd, &[RET; 16]);
    sys::close(fd);
    check!(killed(in_bss), "code written to .bss does not run");
    check!(killed(in_data), "code written to .data does not run");
    check!(killed(on_stack), "code written to the stack does not run");
    check!(
        killed(in_writable_mapping),
        "code written to a file mapping does not run"
    );
    check!(
        killed(in_read_only_mapping),
        "code in a read-only file mapping does not run"
    );
    msg!("the program's own code runs");
    health::still_works();
}
