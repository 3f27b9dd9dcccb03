//! `exec-once`: replaces itself with `child-simple`, which keeps the name `exec-once`.
#![no_std]
#![no_main]

use ulib::{fail, msg, sys};

ulib::test_main!(body);

fn body(_args: &[&str]) {
    msg!("I'm your father");
    let r = sys::exec(c"child-simple");
    fail!("exec(\"child-simple\") returned {r}");
}
