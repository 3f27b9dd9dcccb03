//! Kernel panics: the message goes to the serial port, the frame-pointer
//! backtrace to the VMM (which symbolizes it with the kernel ELF), then the VM
//! ends with the panic status.
// The panic handler itself is not built into host unit tests.
#![cfg_attr(test, allow(dead_code, unused_imports))]

use crate::arch::{self, cpu};
use abi::device::{PANIC_FRAMES_MAX, PANIC_PORT, PanicReport};
use core::fmt::{self, Write};
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

static PANICKING: AtomicBool = AtomicBool::new(false);
/// The faulting `rip` of a kernel exception, reported instead of the panic site.
static FAULT_RIP: AtomicU64 = AtomicU64::new(0);

struct Serial;
impl Write for Serial {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        crate::console::serial_write(s.as_bytes());
        Ok(())
    }
}

static mut REPORT: PanicReport = PanicReport {
    rip: 0,
    n_frames: 0,
    frames: [0; PANIC_FRAMES_MAX],
};

/// Records the faulting instruction of a kernel exception before panicking.
pub fn set_fault_rip(rip: u64) {
    FAULT_RIP.store(rip, Ordering::Relaxed);
}

/// Walks the frame-pointer chain from the caller's frame.
fn backtrace(report: &mut PanicReport) {
    let n = arch::backtrace::return_addresses(&mut report.frames);
    report.n_frames = n as u64;
}

#[cfg(not(test))]
#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    cpu::intr_disable();
    if PANICKING.swap(true, Ordering::Relaxed) {
        crate::console::serial_write(b"Kernel PANIC recursion\n");
        arch::panic_off();
    }
    // Lines the console held back come before the report.
    crate::console::flush_if_free();
    let _ = writeln!(Serial, "Kernel PANIC: {}", info.message());
    if let Some(loc) = info.location() {
        let _ = writeln!(Serial, "  at {}:{}", loc.file(), loc.line());
    }
    let report: *mut PanicReport = &raw mut REPORT;
    // SAFETY: only the first panicking context gets here (PANICKING), with
    // interrupts off on a single CPU: this is the only reference to REPORT.
    let report = unsafe { &mut *report };
    report.rip = FAULT_RIP.load(Ordering::Relaxed);
    backtrace(report);
    cpu::outl(
        PANIC_PORT,
        crate::mm::virt_to_phys(report as *const PanicReport as u64) as u32,
    );
    arch::panic_off()
}
