//! `cat FILE...`: copies each file to standard output.
//!
//! A file that cannot be opened is reported as `cat: NAME: cannot open` and
//! makes the exit status 1; the remaining files are still printed.
#![no_std]
#![no_main]

use ulib::{println, sys};

ulib::entry!(main);

fn main(args: &[&str]) -> i32 {
    let mut status = 0;
    for name in args.iter().skip(1) {
        let path = ulib::CBuf::<64>::from_bytes(name.as_bytes());
        let fd = sys::open(path.as_cstr());
        if fd < 0 {
            println!("cat: {name}: cannot open");
            status = 1;
            continue;
        }
        let mut buf = [0u8; 512];
        loop {
            let n = sys::read(fd, &mut buf);
            if n <= 0 {
                if n < 0 {
                    println!("cat: {name}: read error");
                    status = 1;
                }
                break;
            }
            sys::write(1, &buf[..n as usize]);
        }
        sys::close(fd);
    }
    status
}
