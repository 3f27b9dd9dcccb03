//! The kernel binary: the entry point `_start`, which switches to the boot stack
//! and calls [`kernel::kmain`] with the guest-physical address of the `BootInfo`.
#![no_std]
#![no_main]

core::arch::global_asm!(
    ".section .text.boot, \"ax\"",
    ".global _start",
    "_start:",
    "lea rsp, [rip + {stack} + {size}]",
    "xor ebp, ebp",
    "call {kmain}",
    "2: hlt",
    "jmp 2b",
    stack = sym kernel::BOOT_STACK,
    size = const kernel::BOOT_STACK_SIZE,
    kmain = sym kernel::kmain,
);
