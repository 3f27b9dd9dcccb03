//! `pvm-traps`: runs the kernel's hot paths (system calls, fork/exec/wait,
//! page faults, file I/O, context switches) and reports how many trapping
//! instructions the kernel executed meanwhile in PVM guest mode (port I/O to
//! devices excluded). In PVM guest mode it must be 0.
#![no_std]
#![no_main]

use ulib::{check, msg, sys};

ulib::test_main!(body);

#[repr(C, align(4096))]
struct Pages([u8; 64 * 4096]);
static mut PAGES: Pages = Pages([0; 64 * 4096]);

fn body(_args: &[&str]) {
    let before = sys::kstats().expect("kstats");
    for _ in 0..1000 {
        sys::null();
    }
    for i in 0..8 {
        let pid = sys::fork(c"pvm-traps-kid");
        if pid == 0 {
            sys::exit(i);
        }
        check!(sys::wait(pid) == i, "wait for child {}", i);
    }
    let pid = sys::fork(c"pvm-traps-kid");
    if pid == 0 {
        sys::exec(c"child-simple");
        sys::exit(-2);
    }
    check!(sys::wait(pid) == 81, "exec child-simple");
    let base = (&raw mut PAGES).cast::<u8>();
    for i in 0..64 {
        // SAFETY: page i of PAGES, which this program owns.
        unsafe { base.add(i * 4096).write_volatile(i as u8) };
    }
    check!(sys::create(c"traps.dat", 8192), "create traps.dat");
    let fd = sys::open(c"traps.dat");
    check!(sys::write(fd, &[7u8; 5000]) == 5000, "write 5000 bytes");
    sys::seek(fd, 0);
    let mut buf = [0u8; 5000];
    check!(
        sys::read(fd, &mut buf) == 5000 && buf.iter().all(|&b| b == 7),
        "read them back"
    );
    sys::close(fd);
    sys::remove(c"traps.dat");
    let after = sys::kstats().expect("kstats");
    msg!(
        "trapping instructions in hot paths: {}",
        after.pvm_trapping_instructions - before.pvm_trapping_instructions
    );
}
