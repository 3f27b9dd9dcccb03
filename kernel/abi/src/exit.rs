//! How the guest ends the VM, and the `faultline` process's exit statuses.
//!
//! The kernel writes a 32-bit value to [`crate::device::EXIT_PORT`]: the kind in
//! bits 31..24 and, for [`KIND_PROGRAM`], the low 8 bits of the program's status
//! in bits 7..0 (see [`encode`]).
//!
//! The `faultline` process then exits with:
//! - the initial program's exit status, as its low 8 bits (`exit(-1)` gives 255);
//!   `halt` gives 0;
//! - [`STATUS_PANIC`] after a kernel panic or a triple fault;
//! - [`STATUS_TIMEOUT`] when `--timeout` expired or the debugger killed the VM;
//! - [`STATUS_VMM_ERROR`] when the VMM refused to run or failed: bad command
//!   line, no usable `/dev/kvm`, an unreadable file, a `--kernel` that is not a
//!   faultline kernel of this contract version ([`crate::marker`]), a bad
//!   file-system image (refused by the VMM before boot, or by the kernel at
//!   mount: [`KIND_BAD_DISK`]), a device error;
//! - 128 + the signal number ([`signal_status`]) when SIGHUP (129), SIGINT
//!   (130) or SIGTERM (143) stopped the VM: the VMM tears it down, leaving no
//!   temporary file behind, and exits with this status, as a shell reports a
//!   process the signal killed (these values are also ordinary program
//!   statuses).
//!
//! A program status of 250, 251 or 252 is reported as 249 so that the three
//! reserved statuses stay unambiguous; the VMM prints a note on stderr when it
//! does so.

/// The initial program ended (or `halt` was called); status in the low byte.
pub const KIND_PROGRAM: u32 = 1;
/// The kernel panicked.
pub const KIND_PANIC: u32 = 2;
/// The kernel could not mount the file-system disk (a bad image, or a disk
/// error while reading it); it printed why on the console first. The VMM
/// reports it as [`STATUS_VMM_ERROR`], like a bad image it refuses itself.
pub const KIND_BAD_DISK: u32 = 3;

/// `faultline`'s status after a kernel panic or a triple fault.
pub const STATUS_PANIC: u8 = 250;
/// `faultline`'s status when `--timeout` expired or the debugger killed the VM.
pub const STATUS_TIMEOUT: u8 = 251;
/// `faultline`'s status when the VMM refused to run or failed (its stderr
/// says why, after `faultline: error:`).
pub const STATUS_VMM_ERROR: u8 = 252;
/// What a program status in the reserved range is reported as.
pub const STATUS_CLAMPED: u8 = 249;

/// The `faultline` process status after signal `signal` stopped the VM: 128 + `signal`.
pub const fn signal_status(signal: i32) -> u8 {
    (128 + (signal & 0x7f)) as u8
}

/// Value the kernel writes to the exit port.
pub const fn encode(kind: u32, status: i32) -> u32 {
    (kind << 24) | (status as u32 & 0xff)
}

/// Splits an exit-port value into kind and status byte.
pub const fn decode(value: u32) -> (u32, u8) {
    (value >> 24, (value & 0xff) as u8)
}

/// The `faultline` process status for a program status byte.
pub const fn program_status(status: u8) -> u8 {
    if status >= STATUS_PANIC && status <= STATUS_VMM_ERROR {
        STATUS_CLAMPED
    } else {
        status
    }
}
