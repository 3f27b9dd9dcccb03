//! The floor guest's CPU set-up in either mode: its own GDT with a TSS (the
//! stack for events from user mode), an IDT with the minimal handlers,
//! `syscall` MSRs, port output and the hypercall loop.
//!
//! In PVM guest mode the tables are loaded with hypercalls and returns to
//! user mode are `int $0x17` (from an exception frame) and `int $0x19` (after
//! `syscall`); in the native mode `lgdt`/`lidt` and `iretq`.

use core::arch::asm;

use abi::layout::gdt::{KERNEL_CS, TSS, USER_CS32};

use crate::{STACK, STACK_SIZE};

const HC_WRMSR: u64 = 0x1003;
const HC_LOAD_GDT: u64 = 0x1004;
const HC_LOAD_IDT: u64 = 0x1005;
const HC_FLUSH_PAGE: u64 = 0x1008;
/// An address the guest never maps (PML4 slot 254): its flush is a null hypercall.
const UNMAPPED: u64 = 0x0000_7f00_0000_0000;

const MSR_STAR: u32 = 0xc000_0081;
const MSR_LSTAR: u32 = 0xc000_0082;
const MSR_SFMASK: u32 = 0xc000_0084;

#[repr(C, packed)]
struct Tss {
    reserved0: u32,
    rsp: [u64; 3],
    reserved1: u64,
    ist: [u64; 7],
    reserved2: u64,
    reserved3: u16,
    iomap_base: u16,
}

static mut TSS_BLOCK: Tss = Tss {
    reserved0: 0,
    rsp: [0; 3],
    reserved1: 0,
    ist: [0; 7],
    reserved2: 0,
    reserved3: 0,
    iomap_base: 104,
};

static mut GDT: [u64; 10] = [
    0,
    0,
    0x00af_9b00_0000_ffff, // 0x10 kernel code
    0x00cf_9300_0000_ffff, // 0x18 kernel data
    0x00cf_fb00_0000_ffff, // 0x20 user code, 32-bit
    0x00cf_f300_0000_ffff, // 0x28 user data
    0x00af_fb00_0000_ffff, // 0x30 user code, 64-bit
    0,
    0, // 0x40 TSS, filled in by init
    0,
];

static mut IDT: [[u64; 2]; 256] = [[0; 2]; 256];

unsafe extern "C" {
    fn floor_bp_pvm();
    fn floor_bp_native();
    fn floor_sys_pvm();
    fn floor_ud();
    fn floor_unexpected();
}
use crate::user::{floor_pf_native, floor_pf_pvm};

core::arch::global_asm!(
    ".section .text",
    ".global floor_bp_pvm, floor_bp_native, floor_sys_pvm, floor_ud, floor_unexpected",
    "floor_bp_pvm: int 0x17",
    "floor_bp_native: iretq",
    "floor_sys_pvm: int 0x19",
    "floor_ud:",
    "lea rsp, [rip + {stack} + {size}]",
    "call {after}",
    "floor_unexpected:",
    "lea rsp, [rip + {stack} + {size}]",
    "call {unexpected}",
    stack = sym STACK,
    size = const STACK_SIZE,
    after = sym crate::after_user,
    unexpected = sym crate::unexpected,
);

/// 32-bit port output.
pub fn outl(port: u16, value: u32) {
    // SAFETY: the ports written are the VMM's devices (abi::device); the
    // console port reads the descriptor (and buffer) at the address written.
    unsafe { asm!("out dx, eax", in("dx") port, in("eax") value, options(nostack)) };
}

/// Hypercall `nr` (PVM guest mode only).
fn hypercall(nr: u64, a: u64, b: u64) -> u64 {
    let ret: u64;
    // SAFETY: `int $0x1b` is the PVM hypercall in ring 0; it clobbers only rax.
    unsafe {
        asm!(
            "xchg rbx, {a}",
            "int 0x1b",
            "xchg rbx, {a}",
            a = inout(reg) a => _,
            inout("rax") nr => ret,
            in("rcx") b,
            in("rdx") 0u64,
            options(nostack),
        )
    };
    ret
}

fn wrmsr(pvm: bool, msr: u32, value: u64) {
    if pvm {
        hypercall(HC_WRMSR, msr as u64, value);
    } else {
        // SAFETY: architectural MSRs with valid values.
        unsafe {
            asm!("wrmsr", in("ecx") msr, in("eax") value as u32, in("edx") (value >> 32) as u32, options(nostack))
        };
    }
}

/// The TSC.
pub fn rdtsc() -> u64 {
    let (lo, hi): (u32, u32);
    // SAFETY: rdtsc has no side effects.
    unsafe { asm!("rdtsc", out("eax") lo, out("edx") hi, options(nomem, nostack)) };
    (hi as u64) << 32 | lo as u64
}

/// An interrupt gate to `handler` with privilege `dpl`.
fn gate(handler: unsafe extern "C" fn(), dpl: u64) -> [u64; 2] {
    let a = handler as *const () as u64;
    let low = (a & 0xffff)
        | ((KERNEL_CS as u64) << 16)
        | ((0x8e | dpl << 5) << 40)
        | ((a >> 16) & 0xffff) << 48;
    [low, a >> 32]
}

#[repr(C, packed)]
struct Pointer {
    limit: u16,
    base: u64,
}

/// Loads the GDT, TSS and IDT and programs `syscall` for mode `pvm`.
pub fn init(pvm: bool, _vif_page: u64) {
    // SAFETY: runs once, before anything else reads the statics; the tables
    // are valid long-mode descriptors and stay in place for good.
    unsafe {
        let stack_top = (&raw const STACK) as u64 + STACK_SIZE as u64;
        (&raw mut TSS_BLOCK.rsp)
            .cast::<u64>()
            .write_unaligned(stack_top);
        let base = (&raw const TSS_BLOCK) as u64;
        let limit = (size_of::<Tss>() - 1) as u64;
        GDT[(TSS / 8) as usize] = (limit & 0xffff)
            | ((base & 0xff_ffff) << 16)
            | (0x89 << 40)
            | (((base >> 24) & 0xff) << 56);
        GDT[(TSS / 8) as usize + 1] = base >> 32;
        let idt = &raw mut IDT;
        let idt = &mut *idt;
        for entry in idt.iter_mut().take(32) {
            *entry = gate(floor_unexpected, 0);
        }
        idt[3] = gate(if pvm { floor_bp_pvm } else { floor_bp_native }, 3);
        idt[6] = gate(floor_ud, 0);
        idt[14] = gate(if pvm { floor_pf_pvm } else { floor_pf_native }, 0);
        let gdt = Pointer {
            limit: (size_of::<[u64; 10]>() - 1) as u16,
            base: (&raw const GDT) as u64,
        };
        let idtr = Pointer {
            limit: (size_of::<[[u64; 2]; 256]>() - 1) as u16,
            base: (&raw const IDT) as u64,
        };
        if pvm {
            hypercall(HC_LOAD_GDT, gdt.base, gdt.limit as u64);
            hypercall(HC_LOAD_IDT, idtr.base, idtr.limit as u64);
        } else {
            asm!("lgdt [{}]", in(reg) &gdt, options(nostack));
            asm!("lidt [{}]", in(reg) &idtr, options(nostack));
        }
        asm!("ltr {:x}", in(reg) TSS, options(nostack));
    }
    wrmsr(
        pvm,
        MSR_STAR,
        ((USER_CS32 as u64) << 48) | ((KERNEL_CS as u64) << 32),
    );
    if pvm {
        wrmsr(pvm, MSR_LSTAR, floor_sys_pvm as *const () as u64);
    }
    wrmsr(pvm, MSR_SFMASK, 0x47700);
}

/// Times `n` null hypercalls in ring 0; returns the cycles.
pub fn time_hypercalls(n: u64) -> u64 {
    let start = rdtsc();
    for _ in 0..n {
        hypercall(HC_FLUSH_PAGE, UNMAPPED, 0);
    }
    rdtsc() - start
}

/// Cycles of `n` port writes the VMM serves and ignores (port 0x80): one exit
/// to the VMM process each.
pub fn time_port_exits(n: u64) -> u64 {
    let start = rdtsc();
    for _ in 0..n {
        outl(0x80, 0);
    }
    rdtsc() - start
}

/// Cycles of `n` writes of 0 to the 32-bit register at kernel address `va`
/// (a virtio-mmio DeviceFeaturesSel: it only picks which half of the
/// features the next read shows): one MMIO exit to the VMM process each,
/// the exit of every virtio notification. (Reads would not do: the VMM maps
/// the register windows read-only, so a read is an ordinary load.)
pub fn time_mmio_exits(n: u64, va: u64) -> u64 {
    let start = rdtsc();
    for _ in 0..n {
        // SAFETY: `va` is a device register window of the VMM, mapped by the
        // boot page tables; the selector write has no other effect.
        unsafe { core::ptr::write_volatile(va as *mut u32, 0) };
    }
    rdtsc() - start
}
