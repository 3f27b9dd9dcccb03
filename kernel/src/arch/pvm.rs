//! The PVM guest mode's paravirtual interface (docs/DESIGN.md, "The PVM
//! guest interface"): the per-vCPU VIF page (virtual interrupt flag, pending
//! flag, fault address) and hypercalls (`int $0x1b`, ring 0 only).
use core::arch::asm;
use core::sync::atomic::{AtomicU8, AtomicU64, Ordering};

/// Hypercall: load CR3 (the kernel and user page-table roots).
pub const HC_SET_CR3: u64 = 0x1001;
/// Hypercall: write an MSR.
pub const HC_WRMSR: u64 = 0x1003;
/// Hypercall: load the GDT.
pub const HC_LOAD_GDT: u64 = 0x1004;
/// Hypercall: load the IDT.
pub const HC_LOAD_IDT: u64 = 0x1005;
/// Hypercall: flush the whole TLB.
pub const HC_FLUSH_ALL: u64 = 0x1007;
/// Hypercall: flush one page's TLB entry.
pub const HC_FLUSH_PAGE: u64 = 0x1008;
/// Hypercall: halt until an event is pending.
pub const HC_HALT: u64 = 0x1009;

/// Direct-map address of the VIF page (0 until `init`; read by the trap-return assembly).
pub static VIF_PTR: AtomicU64 = AtomicU64::new(0);

/// Whether the kernel runs in PVM guest mode (read by the trap-return assembly).
pub static PVM_MODE: AtomicU8 = AtomicU8::new(0);

/// Records the VIF page the VMM registered.
pub fn init(vif_page_pa: u64) {
    VIF_PTR.store(crate::mm::phys_to_virt(vif_page_pa), Ordering::Relaxed);
    PVM_MODE.store(1, Ordering::Relaxed);
}

fn vif() -> *mut u8 {
    VIF_PTR.load(Ordering::Relaxed) as *mut u8
}

/// The virtual interrupt flag.
#[inline]
pub fn intr_enabled() -> bool {
    // SAFETY: the VIF page is mapped for the kernel's lifetime; the hypervisor
    // writes it asynchronously, hence the volatile access.
    unsafe { core::ptr::read_volatile(vif()) != 0 }
}

/// Clears the virtual interrupt flag; returns its old value.
#[inline]
pub fn intr_disable() -> bool {
    let was = intr_enabled();
    // SAFETY: as in intr_enabled.
    unsafe { core::ptr::write_volatile(vif(), 0) };
    was
}

/// Sets the virtual interrupt flag and rings the doorbell if an interrupt is pending.
#[inline]
pub fn intr_enable() {
    // SAFETY: as in intr_enabled; `out` to port 0x80 is the PVM doorbell.
    unsafe {
        core::ptr::write_volatile(vif(), 1);
        if core::ptr::read_volatile(vif().add(1)) != 0 {
            asm!("out 0x80, al", in("al") 0u8, options(nomem, nostack));
        }
    }
}

/// The fault address of the page fault being handled.
pub fn fault_address() -> u64 {
    // SAFETY: offset 8 of the VIF page holds CR2 of the #PF being delivered.
    unsafe { core::ptr::read_volatile(vif().add(8) as *const u64) }
}

/// Performs hypercall `nr` with up to three arguments.
pub fn hypercall(nr: u64, a: u64, b: u64, c: u64) -> u64 {
    let ret: u64;
    // SAFETY: `int $0x1b` is the PVM hypercall instruction in ring 0; it
    // clobbers only rax.
    unsafe {
        asm!(
            "xchg rbx, {a}",
            "int 0x1b",
            "xchg rbx, {a}",
            a = inout(reg) a => _,
            inout("rax") nr => ret,
            in("rcx") b,
            in("rdx") c,
            options(nostack),
        )
    };
    ret
}

/// Waits for an interrupt with the virtual interrupt flag set.
pub fn idle() {
    // SAFETY: as in intr_enabled.
    unsafe { core::ptr::write_volatile(vif(), 1) };
    hypercall(HC_HALT, 0, 0, 0);
}
