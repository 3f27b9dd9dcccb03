//! `exec-boundary`: a command line that spans a page boundary is valid.
#![no_std]
#![no_main]

use ulib::{boundary, fail, sys};

ulib::test_main!(body);

fn body(_args: &[&str]) {
    let r = sys::exec_raw(boundary::copy_across_boundary(b"child-simple"));
    fail!("exec(\"child-simple\") returned {r}");
}
