//! Shared by `args-*` and `child-args`: prints `argc` and every `argv` entry,
//! including the NULL at `argv[argc]`, as Pintos `tests/userprog/args.c` does.

use core::ffi::CStr;

use ulib::msg;

pub fn main(_args: &[&str]) -> i32 {
    ulib::entry::set_program_name("args");
    msg!("begin");
    let (argc, argv) = ulib::entry::raw_args();
    msg!("argc = {argc}");
    if !(argv as usize).is_multiple_of(8) {
        msg!("argv and stack must be word-aligned, actually {:p}", argv);
    }
    for i in 0..=argc {
        // SAFETY: the kernel passes `argc + 1` pointers at `argv` (the last is NULL).
        let arg = unsafe { *argv.add(i) };
        if arg.is_null() {
            msg!("argv[{i}] = null");
        } else {
            // SAFETY: a non-NULL entry points to a NUL-terminated string on the stack.
            let bytes = unsafe { CStr::from_ptr(arg) }.to_bytes();
            msg!(
                "argv[{i}] = '{}'",
                core::str::from_utf8(bytes).unwrap_or("?")
            );
        }
    }
    msg!("end");
    0
}
