//! Single CPU operations: interrupt masking, model-specific registers, control
//! registers, port I/O, the TSC and the FPU. Operations that differ between the
//! native and the PVM guest mode choose their form here.
use super::pvm;
use core::arch::asm;
use core::sync::atomic::{AtomicU64, Ordering};

#[inline]
fn pvm_mode() -> bool {
    pvm::PVM_MODE.load(Ordering::Relaxed) != 0
}

/// Trapping instructions (an exit and emulation each in PVM guest mode)
/// executed in PVM guest mode, device port I/O excluded.
static PVM_TRAPPING: AtomicU64 = AtomicU64::new(0);
/// Port I/O to the VMM's devices (an exit by design) in PVM guest mode.
static PVM_DEVICE_IO: AtomicU64 = AtomicU64::new(0);

/// Counts a trapping instruction about to run (PVM guest mode only: in the
/// native mode nothing traps on VT-x/AMD-V hosts).
#[inline]
pub fn count_trapping() {
    if pvm_mode() {
        PVM_TRAPPING.fetch_add(1, Ordering::Relaxed);
    }
}

#[inline]
fn count_device_io() {
    if pvm_mode() {
        PVM_DEVICE_IO.fetch_add(1, Ordering::Relaxed);
    }
}

/// (trapping instructions, device port I/O) executed in PVM guest mode so far.
pub fn pvm_trap_counts() -> (u64, u64) {
    (
        PVM_TRAPPING.load(Ordering::Relaxed),
        PVM_DEVICE_IO.load(Ordering::Relaxed),
    )
}

#[cfg(not(test))]
const RFLAGS_IF: u64 = 1 << 9;

/// Whether interrupts are enabled.
#[cfg(test)]
pub fn intr_enabled() -> bool {
    false
}

/// Whether interrupts are enabled.
#[cfg(not(test))]
pub fn intr_enabled() -> bool {
    if pvm_mode() {
        return pvm::intr_enabled();
    }
    let flags: u64;
    // SAFETY: reading RFLAGS has no side effects.
    unsafe { asm!("pushfq", "pop {}", out(reg) flags, options(nomem, preserves_flags)) };
    flags & RFLAGS_IF != 0
}

/// Disables interrupts and returns whether they were enabled.
pub fn intr_disable() -> bool {
    #[cfg(not(test))]
    if pvm_mode() {
        return pvm::intr_disable();
    }
    let was = intr_enabled();
    #[cfg(not(test))]
    count_trapping();
    // SAFETY: masking interrupts is always sound; callers restore with intr_restore.
    #[cfg(not(test))]
    unsafe {
        asm!("cli", options(nomem, nostack))
    };
    was
}

/// Enables interrupts.
pub fn intr_enable() {
    #[cfg(not(test))]
    if pvm_mode() {
        return pvm::intr_enable();
    }
    #[cfg(not(test))]
    count_trapping();
    // SAFETY: the kernel is ready to take interrupts once the IDT is loaded.
    #[cfg(not(test))]
    unsafe {
        asm!("sti", options(nomem, nostack))
    };
}

/// Restores the interrupt state returned by [`intr_disable`].
pub fn intr_restore(was_enabled: bool) {
    if was_enabled {
        intr_enable();
    }
}

/// Enables interrupts and waits for one (atomically: `sti; hlt`).
pub fn idle() {
    super::exits::count(super::exits::Op::Halt);
    if pvm_mode() {
        return pvm::idle();
    }
    count_trapping();
    // SAFETY: `sti` takes effect after the next instruction, so no interrupt is
    // lost between the two.
    unsafe { asm!("sti", "hlt", options(nomem, nostack)) };
}

/// One step of the final halt loop.
pub fn halt_forever_step() {
    count_trapping();
    // SAFETY: halting with interrupts off just stops the vCPU.
    unsafe { asm!("hlt", options(nomem, nostack)) };
}

/// The time-stamp counter.
#[inline]
pub fn rdtsc() -> u64 {
    let (lo, hi): (u32, u32);
    // SAFETY: rdtsc has no side effects.
    unsafe {
        asm!("rdtsc", out("eax") lo, out("edx") hi, options(nomem, nostack, preserves_flags))
    };
    ((hi as u64) << 32) | lo as u64
}

/// Reads a model-specific register.
pub fn rdmsr(msr: u32) -> u64 {
    let (lo, hi): (u32, u32);
    count_trapping();
    // SAFETY: the kernel only reads MSRs that exist on x86-64 (callers' contract).
    unsafe { asm!("rdmsr", in("ecx") msr, out("eax") lo, out("edx") hi, options(nomem, nostack)) };
    ((hi as u64) << 32) | lo as u64
}

/// Writes a model-specific register.
pub fn wrmsr(msr: u32, value: u64) {
    super::exits::count(super::exits::Op::WriteMsr);
    if pvm_mode() {
        pvm::hypercall(pvm::HC_WRMSR, msr as u64, value, 0);
        return;
    }
    count_trapping();
    // SAFETY: callers write architectural MSRs with valid values.
    unsafe {
        asm!("wrmsr", in("ecx") msr, in("eax") value as u32, in("edx") (value >> 32) as u32, options(nostack))
    };
}

/// The faulting address of the last page fault.
pub fn read_cr2() -> u64 {
    if pvm_mode() {
        return pvm::fault_address();
    }
    let v: u64;
    count_trapping();
    // SAFETY: reading CR2 has no side effects.
    unsafe { asm!("mov {}, cr2", out(reg) v, options(nomem, nostack)) };
    v
}

/// Loads a new top-level page table.
pub fn write_cr3(pa: u64) {
    super::exits::count(super::exits::Op::SetCr3);
    if pvm_mode() {
        pvm::hypercall(pvm::HC_SET_CR3, pa, 0, 0);
        return;
    }
    count_trapping();
    // SAFETY: callers pass a PML4 whose kernel half maps the running kernel.
    unsafe { asm!("mov cr3, {}", in(reg) pa, options(nostack)) };
}

/// Invalidates the TLB entry of one page.
pub fn invlpg(va: u64) {
    super::exits::count(super::exits::Op::FlushPage);
    if pvm_mode() {
        pvm::hypercall(pvm::HC_FLUSH_PAGE, va, 0, 0);
        return;
    }
    count_trapping();
    // SAFETY: invalidating a TLB entry is always sound.
    unsafe { asm!("invlpg [{}]", in(reg) va, options(nostack)) };
}

/// 32-bit port output.
pub fn outl(port: u16, value: u32) {
    count_device_io();
    // SAFETY: the ports written are the VMM's devices (abi::device).
    unsafe { asm!("out dx, eax", in("dx") port, in("eax") value, options(nomem, nostack)) };
}

/// 32-bit port input.
pub fn inl(port: u16) -> u32 {
    let v: u32;
    count_device_io();
    // SAFETY: the ports read are the VMM's devices (abi::device).
    unsafe { asm!("in eax, dx", in("dx") port, out("eax") v, options(nomem, nostack)) };
    v
}

/// 8-bit port output.
pub fn outb(port: u16, value: u8) {
    count_device_io();
    // SAFETY: the ports written are the serial port and the legacy PIC.
    unsafe { asm!("out dx, al", in("dx") port, in("al") value, options(nomem, nostack)) };
}

/// 8-bit port input.
pub fn inb(port: u16) -> u8 {
    let v: u8;
    count_device_io();
    // SAFETY: reading the serial status register has no side effects.
    unsafe { asm!("in al, dx", in("dx") port, out("al") v, options(nomem, nostack)) };
    v
}

/// Zeroes `len` bytes at `dst` (a multiple of 64, 8-byte aligned) with
/// non-temporal stores: a fresh frame is not in the cache, and `movnti`
/// skips reading its lines in only to overwrite them.
///
/// # Safety
/// `dst..dst + len` must be writable memory nothing else uses meanwhile.
#[inline]
pub unsafe fn zero_bytes(dst: *mut u8, len: usize) {
    debug_assert!(len.is_multiple_of(64) && (dst as usize).is_multiple_of(8));
    // SAFETY: per the contract; the loop writes exactly `len` bytes; `sfence`
    // orders the weakly ordered stores before anything that follows.
    unsafe {
        asm!(
            "2:",
            "movnti [{p}], {z}",
            "movnti [{p} + 8], {z}",
            "movnti [{p} + 16], {z}",
            "movnti [{p} + 24], {z}",
            "movnti [{p} + 32], {z}",
            "movnti [{p} + 40], {z}",
            "movnti [{p} + 48], {z}",
            "movnti [{p} + 56], {z}",
            "add {p}, 64",
            "sub {n}, 64",
            "jnz 2b",
            "sfence",
            p = inout(reg) dst => _,
            n = inout(reg) len => _,
            z = in(reg) 0u64,
            options(nostack),
        )
    };
}

/// FXSAVE area: the x87/SSE state of one thread.
#[repr(C, align(16))]
#[derive(Clone)]
pub struct FpuState(pub [u8; 512]);

static mut FPU_INIT: FpuState = FpuState([0; 512]);

/// Puts the FPU in its initial state and records that state for new threads.
pub fn init_fpu() {
    // SAFETY: runs once at boot before any thread exists; FPU_INIT is only read
    // afterwards. MXCSR keeps its reset value 0x1f80 (`ldmxcsr` is not
    // emulated in the native mode of PVM hosts).
    unsafe {
        asm!("fninit", options(nomem, nostack));
        asm!("fxsave64 [{}]", in(reg) &raw mut FPU_INIT, options(nostack));
    }
}

impl FpuState {
    /// The state of a freshly initialized FPU.
    pub fn initial() -> FpuState {
        let init: *const FpuState = &raw const FPU_INIT;
        // SAFETY: FPU_INIT is written once, by init_fpu at boot before any
        // thread is created, and only read afterwards: no write can overlap
        // this read.
        unsafe { (*init).clone() }
    }

    /// Saves the current FPU state here.
    pub fn save(&mut self) {
        // SAFETY: the area is 512 bytes, 16-byte aligned.
        unsafe { asm!("fxsave64 [{}]", in(reg) self.0.as_mut_ptr(), options(nostack)) };
    }

    /// Loads this FPU state.
    pub fn restore(&self) {
        // SAFETY: the area holds a state produced by fxsave64.
        unsafe { asm!("fxrstor64 [{}]", in(reg) self.0.as_ptr(), options(nostack)) };
    }
}
