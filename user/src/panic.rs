//! The panic handler: a user program that panics reports it the way a failed
//! test does and exits with status 1.

use core::panic::PanicInfo;

#[panic_handler]
fn panic(info: &PanicInfo) -> ! {
    crate::test::fail_fmt(format_args!("panic: {}", info.message()))
}
