//! `big-write [BYTES]`: writes BYTES (default 8 MiB, at most 8 MiB) of a
//! pattern to the console with one `write`, then exits 0 if `write` returned
//! BYTES and 1 otherwise. Byte `i` of the pattern is
//! `(i + i / 4093) % 251` (a period no power of two divides).
#![no_std]
#![no_main]

use ulib::sys;

ulib::entry!(main);

const MAX: usize = 8 << 20;

static mut BUF: [u8; MAX] = [0; MAX];

fn main(args: &[&str]) -> i32 {
    let len = match args.get(1).map(|a| a.parse::<usize>()) {
        None => MAX,
        Some(Ok(n)) if n <= MAX => n,
        Some(_) => return 2,
    };
    // SAFETY: the program is single-threaded and `BUF` is used only here, so
    // this is the only reference to it.
    let buf = unsafe { core::slice::from_raw_parts_mut((&raw mut BUF).cast::<u8>(), MAX) };
    for (i, b) in buf[..len].iter_mut().enumerate() {
        *b = ((i + i / 4093) % 251) as u8;
    }
    if sys::write(1, &buf[..len]) as i64 == len as i64 {
        0
    } else {
        1
    }
}
