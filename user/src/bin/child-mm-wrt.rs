//! `child-mm-wrt`: creates `mapped.txt`, maps it, copies the sample text into
//! the mapping and exits without munmap (Pintos `child-mm-wrt`, the child of
//! `mmap-exit`).
#![no_std]
#![no_main]

use ulib::vmtest::guest::write_sample_mapping;

ulib::test_main!(body);

fn body(_args: &[&str]) {
    write_sample_mapping();
}
