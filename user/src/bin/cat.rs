//! `cat [FILE...]`: copies each file to standard output; with no FILE,
//! copies standard input to its end.
//!
//! A file that cannot be opened is reported as `cat: NAME: cannot open` and
//! makes the exit status 1; the remaining files are still printed.
#![no_std]
#![no_main]

use ulib::{println, sys};

ulib::entry!(main);

fn main(args: &[&str]) -> i32 {
    if args.len() < 2 {
        return copy(0, "standard input");
    }
    let mut status = 0;
    for name in args.iter().skip(1) {
        let path = ulib::CBuf::<64>::from_bytes(name.as_bytes());
        let fd = sys::open(path.as_cstr());
        if fd < 0 {
            println!("cat: {name}: cannot open");
            status = 1;
            continue;
        }
        status |= copy(fd, name);
        sys::close(fd);
    }
    status
}

/// Copies `fd` to standard output; 1 after a read error (reported), else 0.
fn copy(fd: i32, name: &str) -> i32 {
    let mut buf = [0u8; 4096];
    loop {
        let n = sys::read(fd, &mut buf);
        if n == 0 {
            return 0;
        }
        if n < 0 {
            println!("cat: {name}: read error");
            return 1;
        }
        sys::write(1, &buf[..n as usize]);
    }
}
