//! `echo ARG...`: prints its arguments separated by spaces, then a newline.
#![no_std]
#![no_main]

use ulib::print::LineBuf;

ulib::entry!(main);

fn main(args: &[&str]) -> i32 {
    let mut line = LineBuf::<{ ulib::print::LINE_MAX }>::new();
    for (i, arg) in args.iter().skip(1).enumerate() {
        if i > 0 {
            line.push_bytes(b" ");
        }
        line.push_bytes(arg.as_bytes());
    }
    line.push_bytes(b"\n");
    ulib::sys::write(1, line.as_bytes());
    0
}
