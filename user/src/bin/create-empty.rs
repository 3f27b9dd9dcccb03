//! `create-empty`: `create("")` must fail (or kill the process).
#![no_std]
#![no_main]

use ulib::{msg, sys};

ulib::test_main!(body);

fn body(_args: &[&str]) {
    msg!("create(\"\"): {}", sys::create(c"", 0) as i32);
}
