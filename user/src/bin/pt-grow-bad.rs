//! `pt-grow-bad`: a read 4 KiB below `rsp`, in a page that does not exist, is
//! not stack growth: the process must die with exit(-1) (Pintos `pt-grow-bad`).
#![no_std]
#![no_main]

use core::arch::asm;

use ulib::fail;
use ulib::vmtest::guest::{resident, rsp};

ulib::test_main!(body);

fn body(_args: &[&str]) {
    if resident(rsp() - 4096) {
        fail!("the page 4 KiB below rsp already exists");
    }
    let value: u64;
    // SAFETY: not safe by design: the kernel must kill the process here.
    unsafe { asm!("mov {}, qword ptr [rsp - 4096]", out(reg) value, options(nostack, readonly)) };
    fail!("read {value} from 4 KiB below rsp");
}
