//! The IDT: 256 interrupt gates, each pointing at a 16-byte stub that pushes
//! the vector (and a zero error code where the CPU pushes none) and jumps to
//! `trap_common` (#DB and #BP: to `debug_trap`, [`super::debug`]).
use super::gdt::DOUBLE_FAULT_IST;
use abi::layout::gdt::KERNEL_CS;
use core::arch::asm;

#[repr(C)]
#[derive(Clone, Copy)]
struct Gate {
    offset_low: u16,
    selector: u16,
    ist: u8,
    attributes: u8,
    offset_mid: u16,
    offset_high: u32,
    reserved: u32,
}

static mut IDT: [Gate; 256] = [Gate {
    offset_low: 0,
    selector: 0,
    ist: 0,
    attributes: 0,
    offset_mid: 0,
    offset_high: 0,
    reserved: 0,
}; 256];

/// Present 64-bit interrupt gate, DPL 0 / DPL 3.
const GATE_KERNEL: u8 = 0x8e;
const GATE_USER: u8 = 0xee;
const VEC_BREAKPOINT: usize = 3;
const VEC_DOUBLE_FAULT: usize = 8;

unsafe extern "C" {
    static trap_stubs: u8;
}

/// Fills and loads the IDT.
pub fn init() {
    // SAFETY: runs once at boot with interrupts off; every stub is 16 bytes
    // from `trap_stubs`, generated below.
    unsafe {
        let base = &raw const trap_stubs as u64;
        let idt: *mut [Gate; 256] = &raw mut IDT;
        for (v, gate) in (*idt).iter_mut().enumerate() {
            let addr = base + 16 * v as u64;
            let user_callable =
                v == VEC_BREAKPOINT || v == abi::syscall::GET_PHYS_ADDR_VECTOR as usize;
            *gate = Gate {
                offset_low: addr as u16,
                selector: KERNEL_CS,
                ist: if v == VEC_DOUBLE_FAULT {
                    DOUBLE_FAULT_IST
                } else {
                    0
                },
                attributes: if user_callable {
                    GATE_USER
                } else {
                    GATE_KERNEL
                },
                offset_mid: (addr >> 16) as u16,
                offset_high: (addr >> 32) as u32,
                reserved: 0,
            };
        }
        #[repr(C, packed)]
        struct Ptr {
            limit: u16,
            base: u64,
        }
        let ptr = Ptr {
            limit: (core::mem::size_of::<[Gate; 256]>() - 1) as u16,
            base: (&raw const IDT) as u64,
        };
        if super::mode() == super::Mode::Pvm {
            super::pvm::hypercall(super::pvm::HC_LOAD_IDT, ptr.base, ptr.limit as u64, 0);
        } else {
            asm!("lidt [{}]", in(reg) &ptr, options(nostack));
        }
    }
}

core::arch::global_asm!(
    ".altmacro",
    ".macro TRAP_STUB n",
    ".balign 16",
    ".if (\\n == 8) || ((\\n >= 10) && (\\n <= 14)) || (\\n == 17) || (\\n == 21) || (\\n == 29) || (\\n == 30)",
    ".else",
    "push 0",
    ".endif",
    "push \\n",
    ".if (\\n == 1) || (\\n == 3)",
    "jmp debug_trap",
    ".else",
    "jmp trap_common",
    ".endif",
    ".endm",
    ".pushsection .text.trap, \"ax\"",
    ".balign 16",
    ".global trap_stubs",
    "trap_stubs:",
    ".set vec, 0",
    ".rept 256",
    "TRAP_STUB %vec",
    ".set vec, vec + 1",
    ".endr",
    ".popsection",
    ".noaltmacro",
);
