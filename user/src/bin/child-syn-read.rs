//! `child-syn-read ID`: reads `syn-read`'s shared file one byte per `read`,
//! checks every byte, and exits with ID (silent unless something is wrong).
#![no_std]
#![no_main]

use ulib::fstest::{SYN_READ_NAME, SYN_READ_SEED, SYN_READ_SIZE};
use ulib::vmtest::pattern_byte;
use ulib::{cformat, fail, sys};

ulib::entry!(main);

fn main(args: &[&str]) -> i32 {
    ulib::entry::set_program_name("child-syn-read");
    let Some(id) = args.get(1).and_then(|a| a.parse::<i32>().ok()) else {
        fail!("bad command-line arguments");
    };
    let fd = sys::open(cformat!("{SYN_READ_NAME}").as_cstr());
    if fd < 2 {
        fail!("open \"{SYN_READ_NAME}\"");
    }
    for i in 0..SYN_READ_SIZE {
        let mut c = [0u8; 1];
        if sys::read(fd, &mut c) != 1 {
            fail!("read \"{SYN_READ_NAME}\" returned {i} bytes, not {SYN_READ_SIZE}");
        }
        let want = pattern_byte(SYN_READ_SEED, i as u64);
        if c[0] != want {
            fail!(
                "byte {i} in \"{SYN_READ_NAME}\" is {:#04x}, not {want:#04x}",
                c[0]
            );
        }
    }
    sys::close(fd);
    id
}
