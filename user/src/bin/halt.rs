//! `halt`: powers the machine off (Pintos `halt` test: nothing is printed).
#![no_std]
#![no_main]

ulib::entry!(main);

fn main(_args: &[&str]) -> i32 {
    ulib::sys::halt()
}
