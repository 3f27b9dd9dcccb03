//! I/O ports and device addresses of the VMM's devices.

/// Exit port: a 32-bit `out` of a value built with [`crate::exit::encode`] ends the VM.
pub const EXIT_PORT: u16 = 0x501;

/// Console output port: a 32-bit `out` of the guest-physical address of a
/// [`ConsoleWrite`] descriptor writes that buffer to the console (one VM exit per buffer).
pub const CONSOLE_PORT: u16 = 0x502;

/// Console input port: a 32-bit `out` of the guest-physical address of a
/// [`ConsoleRead`] descriptor asks the VMM for up to `cap` bytes of its standard
/// input at `addr` (one VM exit per request, whatever its size). The VMM stores
/// what it gave in `result` before the `out` completes.
pub const CONSOLE_IN_PORT: u16 = 0x503;

/// [`ConsoleRead::result`]: no input is available yet (ask again later).
pub const CONSOLE_READ_EMPTY: u64 = 0;
/// [`ConsoleRead::result`]: the input has ended (the VMM's standard input is
/// at its end or unreadable). Set it before the request: a descriptor the VMM
/// cannot serve (outside RAM) leaves it unchanged.
pub const CONSOLE_READ_EOF: u64 = u64::MAX;

/// Descriptor for [`CONSOLE_IN_PORT`].
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct ConsoleRead {
    /// Guest-physical address of the buffer.
    pub addr: u64,
    /// Its size in bytes.
    pub cap: u64,
    /// Written by the VMM: the number of bytes stored (1..=`cap`), or
    /// [`CONSOLE_READ_EMPTY`] or [`CONSOLE_READ_EOF`].
    pub result: u64,
}

/// Panic-report port: a 32-bit `out` of the guest-physical address of a
/// [`PanicReport`] hands the VMM the return addresses to symbolize. The kernel
/// writes the exit port with [`crate::exit::KIND_PANIC`] afterwards.
pub const PANIC_PORT: u16 = 0x504;

/// Marker port: a 32-bit `out` of a [`Marker`] value lets the VMM timestamp a
/// boot milestone (one VM exit each; used for `--stats`).
pub const MARKER_PORT: u16 = 0x505;

/// Milestones written to [`MARKER_PORT`], when the VMM asks for them
/// ([`crate::boot::BootInfo::markers`]).
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Marker {
    /// The kernel's first instruction ran (written by `kmain`).
    KernelEntry = 1,
    /// The initial process is about to execute its first user instruction.
    FirstUserInstruction = 2,
}

/// The 16550 UART used for early boot and panics.
pub const SERIAL_PORT: u16 = 0x3f8;

/// Descriptor for [`CONSOLE_PORT`].
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct ConsoleWrite {
    /// Guest-physical address of the bytes.
    pub addr: u64,
    /// Number of bytes.
    pub len: u64,
}

/// Most bytes of held-back console output ([`crate::layout::phys::CONSOLE_HELD`]
/// names its [`ConsoleWrite`]): output the kernel has accepted but not yet
/// sent through [`CONSOLE_PORT`] (it sends it within a timer tick). A VMM
/// that stops a run itself (a timeout, a signal) writes it out first, so
/// nothing a process wrote is lost; the kernel empties the descriptor before
/// it sends the bytes, so nothing is written twice.
pub const CONSOLE_HELD_MAX: u64 = 4096;

/// Most return addresses in a [`PanicReport`].
pub const PANIC_FRAMES_MAX: usize = 32;

/// Backtrace handed to the VMM on a kernel panic.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct PanicReport {
    /// Faulting or panicking instruction.
    pub rip: u64,
    /// Number of valid entries in `frames`.
    pub n_frames: u64,
    /// Return addresses from the frame-pointer chain, innermost first.
    pub frames: [u64; PANIC_FRAMES_MAX],
}

/// Base of the virtio-mmio device window; device `i` is at `VIRTIO_MMIO_BASE + i * VIRTIO_MMIO_SIZE`.
pub const VIRTIO_MMIO_BASE: u64 = 0xd000_0000;
/// Size of one virtio-mmio device's register window.
pub const VIRTIO_MMIO_SIZE: u64 = 0x1000;
/// First GSI used by virtio-mmio devices; device `i` uses `VIRTIO_IRQ_BASE + i`.
pub const VIRTIO_IRQ_BASE: u32 = 5;

/// Sector size of the block devices.
pub const SECTOR_SIZE: u64 = 512;
