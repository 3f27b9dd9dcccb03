//! `close-bad-fd`: closing a descriptor that was never opened must fail quietly or kill.
#![no_std]
#![no_main]

use ulib::sys;

ulib::test_main!(body);

fn body(_args: &[&str]) {
    sys::close(0x2010_1234);
}
