//! The only place the kernel touches the CPU: descriptor tables, traps, the
//! system-call entry, page tables, the LAPIC timer, context switches and port I/O.
//!
//! Generic kernel code (scheduler, processes, file system, VM) calls the
//! functions here and never learns which CPU mode ([`Mode`]) it runs in: the
//! native x86 mode of VT-x/AMD-V hosts or the PVM guest mode (docs/DESIGN.md,
//! "The two CPU modes").

pub mod backtrace;
pub mod context;
pub mod cpu;
pub mod debug;
pub mod exits;
pub mod gdt;
pub mod idt;
pub mod mmio;
pub mod paging;
pub mod pvm;
pub mod syscall_entry;
pub mod timer;
pub mod trap;

use abi::boot::{BootInfo, CpuMode};
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

pub use abi::boot::CpuMode as Mode;
pub use cpu::{intr_disable, intr_enable, intr_enabled, intr_restore, rdtsc};

static MODE: AtomicU32 = AtomicU32::new(CpuMode::Native as u32);

/// The CPU mode chosen at boot.
pub fn mode() -> Mode {
    if MODE.load(Ordering::Relaxed) == CpuMode::Pvm as u32 {
        Mode::Pvm
    } else {
        Mode::Native
    }
}

/// Sets up the GDT, TSS, IDT and system-call entry for `mode`.
pub fn init(mode: Mode, boot: &BootInfo) {
    MODE.store(mode as u32, Ordering::Relaxed);
    if mode == Mode::Pvm {
        pvm::init(boot.vif_page);
    }
    paging::set_boot_root(if boot.boot_pml4 != 0 {
        boot.boot_pml4
    } else {
        abi::layout::phys::BOOT_PAGE_TABLES
    });
    gdt::init();
    idt::init();
    debug::init(boot.debugger != 0);
    MARKERS.store(boot.markers != 0, Ordering::Relaxed);
    syscall_entry::init();
    cpu::init_fpu();
}

/// Ends the VM with `status` as the initial program's exit status, after
/// writing the file system's cached blocks to the disk.
pub fn power_off(status: i32) -> ! {
    let _ = crate::fs::flush();
    crate::console::flush();
    cpu::intr_disable();
    cpu::outl(
        abi::device::EXIT_PORT,
        abi::exit::encode(abi::exit::KIND_PROGRAM, status),
    );
    loop {
        cpu::halt_forever_step();
    }
}

/// Ends the VM after a kernel panic.
pub fn panic_off() -> ! {
    cpu::intr_disable();
    cpu::outl(
        abi::device::EXIT_PORT,
        abi::exit::encode(abi::exit::KIND_PANIC, 0),
    );
    loop {
        cpu::halt_forever_step();
    }
}

/// Loads the address space identified by `token` (from
/// [`paging::PageTable::token`]; 0 = the kernel's own).
pub fn switch_address_space(token: u64) {
    if token == 0 {
        paging::activate_kernel()
    } else {
        paging::activate_token(token)
    }
}

/// Sets the kernel stack used on the next entry from user mode.
pub fn set_kernel_stack(top: u64) {
    gdt::set_kernel_stack(top);
    syscall_entry::set_kernel_stack(top);
}

/// Whether the VMM asked for boot milestones (`BootInfo::markers`).
static MARKERS: AtomicBool = AtomicBool::new(false);

/// Lets the VMM timestamp a boot milestone, if it asked to (each is a VM
/// exit).
pub fn mark(marker: abi::device::Marker) {
    if MARKERS.load(Ordering::Relaxed) {
        cpu::outl(abi::device::MARKER_PORT, marker as u32);
    }
}
