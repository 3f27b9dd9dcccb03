//! `pt-grow-bad`: a read 4 KiB or more below `rsp`, in a page that does not
//! exist, is not stack growth: the process must die with exit(-1) (Pintos
//! `pt-grow-bad`).
#![no_std]
#![no_main]

use core::arch::asm;

use ulib::fail;
use ulib::vmtest::guest::absent_below_rsp;

ulib::test_main!(body);

fn body(_args: &[&str]) {
    let target = absent_below_rsp();
    let value: u64;
    // SAFETY: not safe by design: the kernel must kill the process here.
    unsafe {
        asm!("mov {}, qword ptr [{}]", out(reg) value, in(reg) target, options(nostack, readonly))
    };
    fail!("read {value} from {target:#x}, below rsp");
}
