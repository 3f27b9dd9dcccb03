//! `exec-arg`: `exec` passes arguments to the new program.
#![no_std]
#![no_main]

use ulib::{fail, sys};

ulib::test_main!(body);

fn body(_args: &[&str]) {
    let r = sys::exec(c"child-args childarg");
    fail!("exec(\"child-args childarg\") returned {r}");
}
