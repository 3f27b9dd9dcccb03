//! Program start-up: `_start`, the argument vector and the program name.
//!
//! The kernel enters `_start` with `rsp` at a fake return address 0,
//! `rdi = argc` and `rsi = argv` (docs/DESIGN.md, "User ABI").
//! [`entry!`](crate::entry!) defines `_start` for a program: it clears the
//! frame pointer, aligns the stack to 16 bytes and calls [`start`], which
//! turns `argv` into a `&[&str]` without allocating, records `argv[0]` as the
//! program name and calls `exit(main(args))`.

use core::ffi::{CStr, c_char};
use core::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};

use crate::sys;

/// Most arguments passed to `main` (the kernel accepts no more).
pub const MAX_ARGS: usize = abi::syscall::ARGS_MAX;

static NAME_PTR: AtomicPtr<u8> = AtomicPtr::new(core::ptr::null_mut());
static NAME_LEN: AtomicUsize = AtomicUsize::new(0);
static ARGV: AtomicPtr<*const c_char> = AtomicPtr::new(core::ptr::null_mut());
static ARGC: AtomicUsize = AtomicUsize::new(0);

/// `argc` and `argv` exactly as the kernel passed them in `rdi` and `rsi`, for
/// tests of the start-up stack layout (`argv[argc]` must be NULL).
pub fn raw_args() -> (usize, *const *const c_char) {
    (
        ARGC.load(Ordering::Relaxed),
        ARGV.load(Ordering::Relaxed).cast_const(),
    )
}

/// The name the test helpers print: `argv[0]` unless [`set_program_name`] changed it.
pub fn program_name() -> &'static str {
    let ptr = NAME_PTR.load(Ordering::Relaxed);
    if ptr.is_null() {
        return "user";
    }
    let len = NAME_LEN.load(Ordering::Relaxed);
    // SAFETY: the pointer and length were stored together from a `&'static str`
    // by `set_program_name`; a process has one thread, so they match.
    let bytes = unsafe { core::slice::from_raw_parts(ptr, len) };
    core::str::from_utf8(bytes).unwrap_or("user")
}

/// Sets the name printed by [`msg!`](crate::msg!) and friends (Pintos `test_name`).
pub fn set_program_name(name: &'static str) {
    NAME_PTR.store(name.as_ptr().cast_mut(), Ordering::Relaxed);
    NAME_LEN.store(name.len(), Ordering::Relaxed);
}

/// Reads the argument vector the kernel built, records the program name and
/// runs `main`, then exits with its result.
///
/// # Safety
/// `argv` must be NULL or point to `argc` pointers to NUL-terminated strings
/// that live as long as the process (the kernel's start-up stack).
pub unsafe fn start(
    argc: usize,
    argv: *const *const c_char,
    main: fn(&[&'static str]) -> i32,
) -> ! {
    ARGC.store(argc, Ordering::Relaxed);
    ARGV.store(argv.cast_mut(), Ordering::Relaxed);
    let mut args: [&'static str; MAX_ARGS] = [""; MAX_ARGS];
    let mut n = 0;
    if !argv.is_null() {
        while n < argc.min(MAX_ARGS) {
            // SAFETY: the kernel placed `argc` valid pointers at `argv`, each to a
            // NUL-terminated string on the stack, which lives as long as the process.
            let arg = unsafe { *argv.add(n) };
            if arg.is_null() {
                break;
            }
            // SAFETY: see above; the string is NUL-terminated and never freed.
            let bytes = unsafe { CStr::from_ptr(arg) }.to_bytes();
            args[n] = core::str::from_utf8(bytes).unwrap_or("?");
            n += 1;
        }
    }
    if n > 0 {
        set_program_name(args[0]);
    }
    sys::exit(main(&args[..n]))
}

/// Defines the program's `_start`, which calls `main(args) -> i32` and exits
/// with its result:
///
/// ```ignore
/// #![no_std]
/// #![no_main]
/// ulib::entry!(main);
/// fn main(args: &[&str]) -> i32 { 0 }
/// ```
#[macro_export]
macro_rules! entry {
    ($main:path) => {
        /// The ELF entry point.
        #[unsafe(no_mangle)]
        #[unsafe(naked)]
        pub unsafe extern "C" fn _start() -> ! {
            // SAFETY: `rdi` (argc) and `rsi` (argv) pass through untouched; the
            // stack is aligned as the SysV ABI requires at a call, and the callee
            // never returns.
            core::arch::naked_asm!(
                "xor ebp, ebp",
                "and rsp, -16",
                "call {start}",
                "ud2",
                start = sym __ulib_start,
            )
        }

        extern "C" fn __ulib_start(argc: usize, argv: *const *const core::ffi::c_char) -> ! {
            // SAFETY: the kernel passes argc and argv as the user ABI describes.
            unsafe { $crate::entry::start(argc, argv, $main) }
        }
    };
}
