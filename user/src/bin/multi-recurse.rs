//! `multi-recurse N`: forks and execs `multi-recurse N-1` down to 0; each
//! level checks its child's status and exits with its own N.
#![no_std]
#![no_main]

use ulib::{cformat, fail, msg, sys};

ulib::entry!(main);

fn main(args: &[&str]) -> i32 {
    ulib::entry::set_program_name("multi-recurse");
    let Some(n) = args.get(1).and_then(|a| a.parse::<i32>().ok()) else {
        fail!("usage: multi-recurse N");
    };
    msg!("begin {n}");
    if n > 0 {
        let cmd = cformat!("multi-recurse {}", n - 1);
        let pid = sys::fork(c"multi-recurse");
        if pid == 0 {
            sys::exec(cmd.as_cstr());
            fail!("exec(\"multi-recurse {}\") returned", n - 1);
        }
        let status = sys::wait(pid);
        if status != n - 1 {
            fail!("wait(exec(\"multi-recurse {}\")) returned {status}", n - 1);
        }
    }
    msg!("end {n}");
    n
}
