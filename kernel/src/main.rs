//! The kernel binary: the entry point `_start`, which switches to the boot stack
//! and calls [`kernel::kmain`] with the guest-physical address of the `BootInfo`;
//! and the note that marks the binary as a faultline kernel of this ABI
//! version (`abi::marker`), which the VMM checks before it boots it.
#![no_std]
#![no_main]

/// The faultline kernel note (kept by the linker script's `KEEP`).
#[used]
#[unsafe(link_section = ".note.faultline")]
static FAULTLINE_NOTE: abi::marker::KernelNote = abi::marker::KERNEL_NOTE;

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
