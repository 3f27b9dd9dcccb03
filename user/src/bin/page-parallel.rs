//! `page-parallel`: four `child-linear` processes, each with a 2 MiB array,
//! run at once against a 2 MiB user pool, so their pages evict each other's
//! (Pintos `page-parallel`). Every child must exit with 0x42.
#![no_std]
#![no_main]

use ulib::{cformat, check, fail, msg, sys};

ulib::test_main!(body);

const CHILDREN: usize = 4;

fn body(_args: &[&str]) {
    let mut pids = [0; CHILDREN];
    for (i, pid) in pids.iter_mut().enumerate() {
        msg!("exec \"child-linear {i}\"");
        *pid = sys::fork(c"child-linear");
        if *pid == 0 {
            let cmd = cformat!("child-linear {i}");
            sys::exec(cmd.as_cstr());
            fail!("exec \"child-linear {i}\" returned");
        }
        if *pid < 0 {
            fail!("fork child {i}");
        }
    }
    for (i, &pid) in pids.iter().enumerate() {
        let status = sys::wait(pid);
        check!(status == 0x42, "wait for child {i}");
    }
}
