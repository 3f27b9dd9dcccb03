//! `yield-child`: faultline's `yield` gives the CPU to a ready process. The
//! parent forks a child (ready, not yet run: `fork` returns to the parent
//! first) that creates the file `ran` and exits, then yields at most three
//! times, looking for the file after each. Without a working `yield` the
//! child would run only at the next timer tick, milliseconds later, long
//! after the parent's three tries. The parent waits for the child before it
//! prints, so the child's exit line comes first whatever the scheduling.
#![no_std]
#![no_main]

use ulib::{check, sys};

ulib::test_main!(body);

fn body(_args: &[&str]) {
    let pid = sys::fork(c"child");
    if pid == 0 {
        sys::create(c"ran", 0);
        sys::exit(0);
    }
    let mut ran = false;
    let mut yields = 0;
    for _ in 0..3 {
        yields += i32::from(sys::yield_now() == 0);
        let fd = sys::open(c"ran");
        if fd >= 0 {
            sys::close(fd);
            ran = true;
            break;
        }
    }
    let status = sys::wait(pid);
    check!(pid > 0, "fork a child");
    check!(yields > 0, "yield returns 0");
    check!(ran, "the ready child ran while its parent yielded");
    check!(status == 0, "wait for the child: exit status 0");
}
