//! `pt-grow-stk-sc`: the stack grows inside a system call. The program moves
//! `rsp` down by 64 KiB without touching the new area and `read`s a file into
//! the middle of it, so the kernel itself takes the faults on pages that do
//! not exist yet and must grow the stack by the user `rsp` saved at system-call
//! entry (Pintos `pt-grow-stk-sc`).
#![no_std]
#![no_main]

use core::arch::asm;

use abi::syscall::SYS_READ;
use ulib::sample::{self, SAMPLE};
use ulib::{check, sys};

ulib::test_main!(body);

/// Moves `rsp` down by 64 KiB, asks `get_phys_addr` about the address 32 KiB
/// above the new `rsp`, reads `out.len()` bytes of `fd` there and copies them
/// to `out`, then restores `rsp`. Returns (the physical address before the
/// read, the result of `read`).
fn read_into_new_stack(fd: i32, out: &mut [u8]) -> (u64, i64) {
    let phys_before: u64;
    let result: i64;
    // SAFETY: the block restores rsp before it ends; between, it only uses the
    // 64 KiB below the old rsp (which the stack may grow into) and `out`, which
    // is valid for `out.len()` bytes. The kernel preserves every register but
    // rax, rcx and r11 across `syscall` and `int 0x42`.
    unsafe {
        asm!(
            "mov r12, rsp",
            "sub rsp, 0x10000",
            "lea r13, [rsp + 0x8000]",
            "mov rax, r13",
            "int 0x42",
            "mov r14, rax",
            "mov eax, {nr}",
            "mov rdi, r8",
            "mov rsi, r13",
            "mov rdx, r9",
            "syscall",
            "mov r15, rax",
            "mov rdi, r10",
            "mov rsi, r13",
            "mov rcx, r9",
            "cld",
            "rep movsb",
            "mov rsp, r12",
            nr = const SYS_READ,
            in("r8") fd as i64,
            in("r9") out.len(),
            in("r10") out.as_mut_ptr(),
            out("r12") _,
            out("r13") _,
            out("r14") phys_before,
            out("r15") result,
            out("rax") _,
            out("rcx") _,
            out("rdx") _,
            out("rsi") _,
            out("rdi") _,
            out("r11") _,
        );
    }
    (phys_before, result)
}

fn body(_args: &[&str]) {
    let fd = sys::open(c"sample.txt");
    check!(fd > 1, "open \"sample.txt\"");
    let mut copy = [0u8; 1024];
    let copy = &mut copy[..SAMPLE.len()];
    let (phys_before, n) = read_into_new_stack(fd, copy);
    check!(
        phys_before == 0 && n == SAMPLE.len() as i64,
        "read \"sample.txt\" into a stack page that does not exist yet"
    );
    check!(sample::matches(copy), "compare read data against the file");
    sys::close(fd);
}
