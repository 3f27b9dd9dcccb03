//! `child-linear KEY`: encrypts a 2 MiB `.bss` array of zeros with ARC4 keyed
//! by KEY, decrypts it and checks that it is all zeros again; exits with 0x42
//! (Pintos `child-linear`, the child of `page-parallel` and `vm-no-leak`).
#![no_std]
#![no_main]

use ulib::fail;
use ulib::vmtest::{Arc4, PageArray};

ulib::entry!(main);

const SIZE: usize = 2 << 20;
static BUF: PageArray<SIZE> = PageArray::zeroed();

fn main(args: &[&str]) -> i32 {
    ulib::entry::set_program_name("child-linear");
    let key = args.last().copied().unwrap_or("child-linear");
    // SAFETY: the only reference to the array.
    let buf = unsafe { BUF.get() };
    Arc4::new(key.as_bytes()).crypt(buf);
    if buf.iter().all(|&b| b == 0) {
        fail!("encryption left the array all zeros");
    }
    Arc4::new(key.as_bytes()).crypt(buf);
    if let Some(i) = buf.iter().position(|&b| b != 0) {
        fail!("byte {i} != 0");
    }
    0x42
}
