//! Shared by `rox-child` and `rox-multichild`: the parent may write
//! `child-rox` before and after it runs, but `child-rox` (nested `depth`
//! deep) must find its own executable write-protected while it runs.

use ulib::{cformat, check, fail, msg, sys};

pub fn run(depth: u32) {
    let fd = sys::open(c"child-rox");
    check!(fd > 1, "open \"child-rox\"");
    let mut byte = [0u8; 1];
    check!(sys::read(fd, &mut byte) == 1, "read \"child-rox\"");
    sys::seek(fd, 0);
    check!(sys::write(fd, &byte) == 1, "write \"child-rox\"");

    let cmd = cformat!("child-rox {depth}");
    msg!("exec \"child-rox {depth}\"");
    let pid = sys::fork(c"child-rox");
    if pid == 0 {
        sys::exec(cmd.as_cstr());
        fail!("exec \"child-rox {depth}\" returned");
    }
    let status = sys::wait(pid);
    check!(status == 12, "wait(exec()) = {status}");

    sys::seek(fd, 0);
    check!(sys::write(fd, &byte) == 1, "write \"child-rox\"");
    sys::close(fd);
}
