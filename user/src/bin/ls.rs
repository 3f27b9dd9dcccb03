//! `ls`: lists the files of the file system, one per line as `NAME SIZE`.
#![no_std]
#![no_main]

use ulib::{println, sys};

ulib::entry!(main);

fn main(_args: &[&str]) -> i32 {
    let mut index = 0;
    let mut name = [0u8; 16];
    while let Some(size) = sys::readdir(index, &mut name) {
        let len = name.iter().position(|&b| b == 0).unwrap_or(name.len());
        let text = core::str::from_utf8(&name[..len]).unwrap_or("?");
        println!("{text} {size}");
        index += 1;
        name = [0; 16];
    }
    0
}
