//! The Pintos test conventions (`tests/lib.c`, `tests/main.c`):
//! [`msg!`](crate::msg!) prints `(NAME) text`, [`fail!`](crate::fail!) prints
//! `(NAME) text: FAILED` and exits with 1, [`check!`](crate::check!) prints its
//! message and fails when the condition is false, and
//! [`test_main!`](crate::test_main!) wraps a test body in `(NAME) begin` /
//! `(NAME) end`. NAME is the program name ([`crate::entry::program_name`]).
//! Each message is written with one `write`.

use core::fmt::{self, Write};
use core::sync::atomic::{AtomicBool, Ordering};

use crate::entry::program_name;
use crate::print::{LINE_MAX, LineBuf};
use crate::sys;

static QUIET: AtomicBool = AtomicBool::new(false);

/// Suppresses (or re-enables) [`msg!`](crate::msg!) output (Pintos `quiet`);
/// failures are always printed.
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

fn emit(args: fmt::Arguments, suffix: &str) {
    let mut line = LineBuf::<LINE_MAX>::new();
    let _ = write!(line, "({}) ", program_name());
    let _ = line.write_fmt(args);
    line.push_bytes(suffix.as_bytes());
    sys::write(abi::syscall::STDOUT_FILENO, line.as_bytes());
}

/// Prints `(NAME) <args>\n` unless quiet.
pub fn msg_fmt(args: fmt::Arguments) {
    if !QUIET.load(Ordering::Relaxed) {
        emit(args, "\n");
    }
}

/// Prints `(NAME) <args>: FAILED\n` and exits with status 1.
pub fn fail_fmt(args: fmt::Arguments) -> ! {
    emit(args, ": FAILED\n");
    sys::exit(1)
}

/// Runs a test body between `(NAME) begin` and `(NAME) end`, as Pintos `main`.
pub fn run_test(args: &[&'static str], body: fn(&[&'static str])) -> i32 {
    msg_fmt(format_args!("begin"));
    body(args);
    msg_fmt(format_args!("end"));
    0
}

/// Prints `(NAME) text` (Pintos `msg`).
#[macro_export]
macro_rules! msg {
    ($($arg:tt)*) => {
        $crate::test::msg_fmt(format_args!($($arg)*))
    };
}

/// Prints `(NAME) text: FAILED` and exits with 1 (Pintos `fail`).
#[macro_export]
macro_rules! fail {
    ($($arg:tt)*) => {
        $crate::test::fail_fmt(format_args!($($arg)*))
    };
}

/// Prints the message, then fails with it if `cond` is false (Pintos `CHECK`).
#[macro_export]
macro_rules! check {
    ($cond:expr, $($arg:tt)*) => {{
        $crate::test::msg_fmt(format_args!($($arg)*));
        if !($cond) {
            $crate::test::fail_fmt(format_args!($($arg)*));
        }
    }};
}

/// Defines a Pintos-style test program: `_start`, then `(NAME) begin`,
/// `body(args)`, `(NAME) end` and exit status 0.
///
/// ```ignore
/// ulib::test_main!(body);
/// fn body(_args: &[&str]) { ulib::msg!("hello"); }
/// ```
#[macro_export]
macro_rules! test_main {
    ($body:path) => {
        fn __ulib_test_main(args: &[&'static str]) -> i32 {
            $crate::test::run_test(args, $body)
        }
        $crate::entry!(__ulib_test_main);
    };
}
