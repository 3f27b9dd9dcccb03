//! `page-merge-stk`: the merge-sort pipeline of [`ulib::vmtest::merge`] over
//! 1 MiB of random bytes against a 1 MiB user pool: all children at once, each sorting its chunk in a 128 KiB buffer on its stack (`child-qsort`)
//! (Pintos `page-merge-stk`).
#![no_std]
#![no_main]

use ulib::vmtest::merge::{self, Mode};

ulib::test_main!(body);

fn body(_args: &[&str]) {
    merge::run(Mode::Parallel, "child-qsort", 72);
}
