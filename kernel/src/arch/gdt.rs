//! The GDT (Linux layout, see `abi::layout::gdt`) and the TSS that holds the
//! kernel stack used on entry from user mode.
use abi::layout::gdt::{KERNEL_CS, KERNEL_DS, TSS};
use core::arch::asm;
use core::mem::size_of;

/// The 64-bit TSS.
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

/// Stack for double faults (IST 1), so that a kernel stack overflow still reports.
#[repr(C, align(16))]
struct IstStack([u8; 16384]);
static mut DOUBLE_FAULT_STACK: IstStack = IstStack([0; 16384]);

/// Index of the double-fault stack in the TSS IST (1-based, as in IDT gates).
pub const DOUBLE_FAULT_IST: u8 = 1;

static mut GDT: [u64; 10] = [
    0,
    0,
    0x00af_9b00_0000_ffff, // 0x10 kernel code, 64-bit
    0x00cf_9300_0000_ffff, // 0x18 kernel data
    0x00cf_fb00_0000_ffff, // 0x20 user code, 32-bit (for sysret's selector arithmetic)
    0x00cf_f300_0000_ffff, // 0x28 user data
    0x00af_fb00_0000_ffff, // 0x30 user code, 64-bit
    0,
    0, // 0x40 TSS (two entries), filled in by init
    0,
];

#[repr(C, packed)]
struct DescriptorPointer {
    limit: u16,
    base: u64,
}

/// Loads the GDT, reloads the segment registers and loads the task register.
pub fn init() {
    // SAFETY: runs once on the boot CPU before interrupts are enabled; the
    // statics are not accessed concurrently. The descriptors are valid for
    // long mode and the far return lands on the next instruction.
    unsafe {
        let ist_top = (&raw const DOUBLE_FAULT_STACK) as u64 + size_of::<IstStack>() as u64;
        TSS_BLOCK.ist[DOUBLE_FAULT_IST as usize - 1] = ist_top;
        let base = (&raw const TSS_BLOCK) as u64;
        let limit = (size_of::<Tss>() - 1) as u64;
        let low = (limit & 0xffff)
            | ((base & 0xff_ffff) << 16)
            | (0x89 << 40) // present, type 9 (available 64-bit TSS)
            | (((limit >> 16) & 0xf) << 48)
            | (((base >> 24) & 0xff) << 56);
        GDT[(TSS / 8) as usize] = low;
        GDT[(TSS / 8) as usize + 1] = base >> 32;
        let ptr = DescriptorPointer {
            limit: (size_of::<[u64; 10]>() - 1) as u16,
            base: (&raw const GDT) as u64,
        };
        if super::mode() == super::Mode::Pvm {
            // Same selectors as the VMM's boot GDT, so the segment registers
            // need no reload (which would trap).
            super::pvm::hypercall(super::pvm::HC_LOAD_GDT, ptr.base, ptr.limit as u64, 0);
            // There is no hypercall for the task register: one trap at boot.
            super::cpu::count_trapping();
            asm!("ltr {:x}", in(reg) TSS, options(nostack));
            return;
        }
        asm!("lgdt [{}]", in(reg) &ptr, options(nostack));
        asm!(
            "push {cs}",
            "lea {tmp}, [rip + 2f]",
            "push {tmp}",
            "retfq",
            "2:",
            "mov ds, {ds:e}",
            "mov es, {ds:e}",
            "mov ss, {ds:e}",
            cs = const KERNEL_CS as u64,
            ds = in(reg) KERNEL_DS as u32,
            tmp = out(reg) _,
        );
        asm!("ltr {:x}", in(reg) TSS, options(nostack));
    }
}

/// Sets the stack the CPU switches to on entry from user mode.
pub fn set_kernel_stack(top: u64) {
    // SAFETY: a single aligned-enough store into the TSS; the CPU reads rsp0 only
    // on a privilege change, and this runs with interrupts disabled during a switch.
    unsafe { (&raw mut TSS_BLOCK.rsp).cast::<u64>().write_unaligned(top) };
}
