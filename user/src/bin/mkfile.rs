//! `mkfile NAME WORD...`: creates file NAME holding the words separated by
//! spaces and a newline (the file system has fixed-size files, so NAME must not
//! exist yet).
#![no_std]
#![no_main]

use ulib::print::LineBuf;
use ulib::{println, sys};

ulib::entry!(main);

fn main(args: &[&str]) -> i32 {
    let Some(name) = args.get(1) else {
        println!("usage: mkfile NAME WORD...");
        return 1;
    };
    let mut text = LineBuf::<{ ulib::print::LINE_MAX }>::new();
    for (i, word) in args[2..].iter().enumerate() {
        if i > 0 {
            text.push_bytes(b" ");
        }
        text.push_bytes(word.as_bytes());
    }
    text.push_bytes(b"\n");
    let path = ulib::CBuf::<64>::from_bytes(name.as_bytes());
    let bytes = text.as_bytes();
    if !sys::create(path.as_cstr(), bytes.len() as u32) {
        println!("mkfile: {name}: cannot create");
        return 1;
    }
    let fd = sys::open(path.as_cstr());
    if fd < 0 {
        println!("mkfile: {name}: cannot open");
        return 1;
    }
    let n = sys::write(fd, bytes);
    sys::close(fd);
    if n != bytes.len() as i32 {
        println!("mkfile: {name}: wrote {n} of {} bytes", bytes.len());
        return 1;
    }
    0
}
