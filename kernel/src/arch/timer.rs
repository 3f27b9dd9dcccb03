//! The LAPIC timer in x2APIC mode: a periodic interrupt at [`TIMER_HZ`] that
//! drives preemption and sleeping.
use super::cpu::{outb, rdmsr, wrmsr};

/// Vector of the timer interrupt.
pub const TIMER_VECTOR: u64 = 32;
/// Timer interrupts per second.
pub const TIMER_HZ: u64 = 100;

const MSR_APIC_BASE: u32 = 0x1b;
const APIC_BASE_ENABLE: u64 = 1 << 11;
const APIC_BASE_X2APIC: u64 = 1 << 10;
const X2APIC_EOI: u32 = 0x80b;
const X2APIC_SVR: u32 = 0x80f;
const X2APIC_LVT_TIMER: u32 = 0x832;
const X2APIC_LVT_LINT0: u32 = 0x835;
const X2APIC_LVT_LINT1: u32 = 0x836;
const X2APIC_TIMER_INIT: u32 = 0x838;
const X2APIC_TIMER_DIV: u32 = 0x83e;
const LVT_MASKED: u64 = 1 << 16;
const LVT_PERIODIC: u64 = 1 << 17;
const SPURIOUS_VECTOR: u64 = 0xff;
/// KVM's LAPIC timer counts at 1 GHz with divide-by-1.
const APIC_TIMER_HZ: u64 = 1_000_000_000;

/// Masks the legacy PICs and starts the periodic LAPIC timer.
pub fn init(tsc_khz: u64) {
    TSC_KHZ.store(tsc_khz, core::sync::atomic::Ordering::Relaxed);
    // Legacy 8259 PICs: mask everything (device interrupts are polled or go
    // through the IOAPIC).
    if super::mode() == super::Mode::Native {
        outb(0x21, 0xff);
        outb(0xa1, 0xff);
    }
    // The VMM starts the local APIC in x2APIC mode (the PVM guest mode cannot
    // switch it); under other loaders, switch it here.
    if super::mode() == super::Mode::Native {
        wrmsr(
            MSR_APIC_BASE,
            rdmsr(MSR_APIC_BASE) | APIC_BASE_ENABLE | APIC_BASE_X2APIC,
        );
    }
    wrmsr(X2APIC_SVR, 0x100 | SPURIOUS_VECTOR);
    wrmsr(X2APIC_LVT_LINT0, LVT_MASKED);
    wrmsr(X2APIC_LVT_LINT1, LVT_MASKED);
    wrmsr(X2APIC_TIMER_DIV, 0b1011);
    wrmsr(X2APIC_LVT_TIMER, TIMER_VECTOR | LVT_PERIODIC);
    wrmsr(X2APIC_TIMER_INIT, APIC_TIMER_HZ / TIMER_HZ);
}

/// Acknowledges the current interrupt (the PVM host needs no EOI).
pub fn eoi() {
    if super::mode() == super::Mode::Pvm {
        return;
    }
    wrmsr(X2APIC_EOI, 0);
}

static TSC_KHZ: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);

/// The TSC frequency in kHz the VMM reported.
pub fn tsc_khz() -> u64 {
    TSC_KHZ.load(core::sync::atomic::Ordering::Relaxed)
}
