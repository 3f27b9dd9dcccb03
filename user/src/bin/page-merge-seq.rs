//! `page-merge-seq`: the merge-sort pipeline of [`ulib::vmtest::merge`] over
//! 1 MiB of random bytes against a 1 MiB user pool: one child after the other, each sorting its chunk in a `.bss` buffer (`child-sort`), all through one file
//! (Pintos `page-merge-seq`).
#![no_std]
#![no_main]

use ulib::vmtest::merge::{self, Mode};

ulib::test_main!(body);

fn body(_args: &[&str]) {
    merge::run(Mode::Sequential, "child-sort", 123);
}
