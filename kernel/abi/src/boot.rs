//! The boot-information block: what the VMM tells the kernel at entry.
//!
//! The VMM writes a [`BootInfo`] at guest-physical [`crate::layout::phys::BOOT_INFO`]
//! and enters the kernel with its guest-physical address in `rdi`.

/// `BootInfo::magic`.
pub const BOOT_MAGIC: u64 = 0x6661_756c_746c_6e31; // "faultln1"

/// Most devices in [`BootInfo::devices`].
pub const MAX_DEVICES: usize = 4;

/// CPU mode chosen by the VMM.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CpuMode {
    /// Ordinary x86 supervisor semantics (`cli`/`sti`, `iretq`, `mov cr3`, ...).
    Native = 0,
    /// PVM guest mode: VIF page, paravirtual returns, hypercalls.
    Pvm = 1,
}

/// Kind of a device in [`BootInfo::devices`].
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceKind {
    /// An unused slot of [`BootInfo::devices`].
    None = 0,
    /// virtio-mmio block device holding the file system.
    FsDisk = 1,
    /// virtio-mmio block device of 4 KiB swap slots.
    SwapDisk = 2,
}

/// One device.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct DeviceInfo {
    /// What the device is.
    pub kind: DeviceKind,
    /// GSI the device's irqfd raises. The VMM's split irqchip has no in-kernel
    /// IOAPIC, so no interrupt reaches the guest: the kernel polls its queues.
    pub irq: u32,
    /// Guest-physical base of the virtio-mmio register window.
    pub mmio_base: u64,
}

impl DeviceInfo {
    /// An unused slot.
    pub const NONE: DeviceInfo = DeviceInfo {
        kind: DeviceKind::None,
        irq: 0,
        mmio_base: 0,
    };
}

/// Boot information. All addresses are guest-physical.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct BootInfo {
    /// [`BOOT_MAGIC`].
    pub magic: u64,
    /// Bytes of guest RAM, which starts at guest-physical 0.
    pub mem_size: u64,
    /// First byte after the kernel image (page-aligned); frames from here to
    /// `mem_size` are free for the kernel's allocators. Frames below it hold the
    /// boot data, the boot page tables and the kernel image.
    pub free_start: u64,
    /// Most frames the user pool may hold (`--user-mem`); 0 means the default
    /// (half of the free frames).
    pub user_pool_pages: u64,
    /// CPU mode ([`CpuMode`] as u32).
    pub cpu_mode: u32,
    /// Number of valid entries in `devices`.
    pub n_devices: u32,
    /// The devices, the first `n_devices` valid, the rest [`DeviceInfo::NONE`].
    pub devices: [DeviceInfo; MAX_DEVICES],
    /// TSC frequency in kHz.
    pub tsc_khz: u64,
    /// The initial command line (NUL-terminated).
    pub cmdline_addr: u64,
    /// The command line's length in bytes, without the NUL.
    pub cmdline_len: u64,
    /// The VIF page (PVM guest mode only, else 0).
    pub vif_page: u64,
    /// Kernel half of the boot PML4 pair (the user half follows it).
    pub boot_pml4: u64,
    /// Fault-profile buffer (0 when profiling is off).
    pub profile_buf: u64,
    /// The profile buffer's size in bytes (0 when profiling is off).
    pub profile_len: u64,
    /// Nonzero when a debugger may attach (`--gdb`): the kernel's #BP and #DB
    /// handlers then report to [`crate::debug::DEBUG_PORT`].
    pub debugger: u64,
    /// Nonzero when the VMM times the boot (`--stats`): the kernel then
    /// writes each [`crate::device::Marker`] to
    /// [`crate::device::MARKER_PORT`]; otherwise none (each is a VM exit).
    pub markers: u64,
}

impl BootInfo {
    /// The CPU mode, or `None` for an unknown value.
    pub fn mode(&self) -> Option<CpuMode> {
        match self.cpu_mode {
            0 => Some(CpuMode::Native),
            1 => Some(CpuMode::Pvm),
            _ => None,
        }
    }
}
