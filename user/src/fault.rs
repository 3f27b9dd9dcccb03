//! Deliberate bad accesses for the robustness tests: a load, a store or a jump
//! to an address the process does not own. Written in assembly so that the
//! compiler cannot reason the access away; each should kill the process.

use core::arch::asm;

/// Loads 4 bytes from `addr` and returns them (if the kernel lets it happen).
pub fn read_u32(addr: u64) -> u32 {
    let value: u32;
    // SAFETY: not safe by design: the test wants the kernel to kill the process
    // for this access; if the kernel wrongly allows it, only a value is read.
    unsafe { asm!("mov {0:e}, dword ptr [{1}]", out(reg) value, in(reg) addr, options(nostack)) };
    value
}

/// Stores 4 bytes at `addr`.
pub fn write_u32(addr: u64, value: u32) {
    // SAFETY: as for `read_u32`; the store targets memory the program never uses.
    unsafe { asm!("mov dword ptr [{0}], {1:e}", in(reg) addr, in(reg) value, options(nostack)) };
}

/// Jumps to `addr`.
pub fn jump(addr: u64) -> ! {
    // SAFETY: as for `read_u32`: the kernel must kill the process at the
    // instruction fetch; nothing after the jump runs.
    unsafe { asm!("jmp {0}", in(reg) addr, options(noreturn)) }
}
