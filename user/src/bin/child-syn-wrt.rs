//! `child-syn-wrt ID`: writes chunk ID of `syn-write`'s shared file, its
//! first 64 bytes one `write` each and the rest in one, then exits with ID
//! (silent unless something is wrong).
#![no_std]
#![no_main]

use ulib::fstest::{SYN_WRITE_CHUNK, SYN_WRITE_NAME, syn_write_byte};
use ulib::{cformat, fail, sys};

ulib::entry!(main);

/// Bytes written one at a time before the rest of the chunk.
const SINGLE: usize = 64;

fn main(args: &[&str]) -> i32 {
    ulib::entry::set_program_name("child-syn-wrt");
    let Some(id) = args.get(1).and_then(|a| a.parse::<usize>().ok()) else {
        fail!("bad command-line arguments");
    };
    let fd = sys::open(cformat!("{SYN_WRITE_NAME}").as_cstr());
    if fd < 2 {
        fail!("open \"{SYN_WRITE_NAME}\"");
    }
    let start = id * SYN_WRITE_CHUNK;
    let mut chunk = [0u8; SYN_WRITE_CHUNK];
    for (i, b) in chunk.iter_mut().enumerate() {
        *b = syn_write_byte((start + i) as u64);
    }
    sys::seek(fd, start as u32);
    for i in 0..SINGLE {
        if sys::write(fd, &chunk[i..i + 1]) != 1 {
            fail!("write byte {i} of chunk {id}");
        }
    }
    if sys::write(fd, &chunk[SINGLE..]) != (SYN_WRITE_CHUNK - SINGLE) as i32 {
        fail!("write the rest of chunk {id}");
    }
    sys::close(fd);
    id as i32
}
