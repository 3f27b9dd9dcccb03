//! Address-space constants shared by the VMM, the kernel and user programs.

/// Size of a page.
pub const PAGE_SIZE: u64 = 4096;

/// User programs are static ELF executables linked here.
pub const USER_LINK_BASE: u64 = 0x40_0000;

/// Top of the initial user stack (Pintos `USER_STACK`).
pub const USER_STACK: u64 = 0x4748_0000;

/// Largest user stack (Pintos: 1 MiB).
pub const USER_STACK_MAX: u64 = 1 << 20;

/// First address that is not a user address (Pintos `KERN_BASE`): user
/// pointers, mappings and segments must lie entirely below it.
pub const USER_LIMIT: u64 = 0x80_0400_0000;

/// Guest-physical address where the kernel image is loaded.
pub const KERNEL_PHYS_BASE: u64 = 0x20_0000;

/// Virtual address of guest-physical 0 in the kernel-image mapping (PML4 slot
/// 511); the kernel is linked at `KERNEL_VIRT_BASE + KERNEL_PHYS_BASE`.
pub const KERNEL_VIRT_BASE: u64 = 0xffff_ffff_8000_0000;

/// Start of the direct map of all guest RAM (PML4 slot 273; slot 256 belongs to
/// the PVM host and is never used).
pub const DIRECT_MAP_BASE: u64 = 0xffff_8880_0000_0000;

/// Guest-physical addresses the VMM fills before boot (one page each unless said).
pub mod phys {
    /// The [`crate::boot::BootInfo`] block.
    pub const BOOT_INFO: u64 = 0x1000;
    /// The initial command line (NUL-terminated, at most `CMDLINE_MAX` bytes).
    pub const CMDLINE: u64 = 0x2000;
    /// The boot GDT (layout in [`crate::layout::gdt`]).
    pub const GDT: u64 = 0x3000;
    /// The per-vCPU VIF page of the PVM guest mode.
    pub const VIF_PAGE: u64 = 0x4000;
    /// One u64 the VMM leaves zero and the kernel sets at boot: the
    /// guest-physical address of its held-back console output, a
    /// [`crate::device::ConsoleWrite`] (see [`crate::device::CONSOLE_HELD_MAX`]).
    pub const CONSOLE_HELD: u64 = 0x5000;
    /// Boot page tables: an 8 KiB-aligned PML4 pair, then lower levels.
    pub const BOOT_PAGE_TABLES: u64 = 0x10000;
    /// End of the area reserved for boot page tables.
    pub const BOOT_PAGE_TABLES_END: u64 = 0x20000;
}

/// GDT selectors (the Linux layout, required by the PVM guest mode and used in
/// both modes).
pub mod gdt {
    /// The kernel's 64-bit code segment.
    pub const KERNEL_CS: u16 = 0x10;
    /// The kernel's data segment.
    pub const KERNEL_DS: u16 = 0x18;
    /// The 32-bit user code segment (no 32-bit code runs; it is the base
    /// `STAR` names, from which `sysret` takes [`USER_DS`] at +8 and
    /// [`USER_CS`] at +16).
    pub const USER_CS32: u16 = 0x23;
    /// The user data and stack segment (RPL 3).
    pub const USER_DS: u16 = 0x2b;
    /// The 64-bit user code segment (RPL 3).
    pub const USER_CS: u16 = 0x33;
    /// The task-state segment (a 16-byte system descriptor).
    pub const TSS: u16 = 0x40;
}

/// The x86-64 page-table entry format, shared by the kernel (which owns the
/// address spaces) and the VMM (which builds the boot tables and walks the
/// guest's tables to sample its stacks).
pub mod pte {
    /// The entry maps something; without it the rest is free for software.
    pub const PRESENT: u64 = 1 << 0;
    /// Writes are allowed.
    pub const WRITABLE: u64 = 1 << 1;
    /// User mode (ring 3) may access the page.
    pub const USER: u64 = 1 << 2;
    /// Set by the CPU when the page is read or written.
    pub const ACCESSED: u64 = 1 << 5;
    /// Set by the CPU when the page is written (leaf entries only).
    pub const DIRTY: u64 = 1 << 6;
    /// A 2 MiB (level 2) or 1 GiB (level 3) page.
    pub const HUGE: u64 = 1 << 7;
    /// No instruction fetch from the page (EFER.NXE is set at boot).
    pub const NO_EXECUTE: u64 = 1 << 63;
    /// The physical address bits of an entry.
    pub const ADDR_MASK: u64 = 0x000f_ffff_ffff_f000;
}

/// Byte offsets in the register frame the kernel saves on every trap (its
/// `TrapFrame`: r15 down to rax, vector, error code, then the CPU's iret frame).
/// The kernel's trap assembly uses them, and the VMM follows frame-pointer
/// chains across trap frames when it samples the guest's stacks.
pub mod trap_frame {
    /// The saved r11 (the user RFLAGS after a `syscall`).
    pub const R11: u64 = 4 * 8;
    /// The saved rbp: the interrupted code's frame pointer.
    pub const RBP: u64 = 8 * 8;
    /// The saved rcx (the user return address after a `syscall`).
    pub const RCX: u64 = 12 * 8;
    /// The trap's vector number.
    pub const VECTOR: u64 = 15 * 8;
    /// The interrupted instruction's address (iret frame).
    pub const RIP: u64 = 17 * 8;
    /// The interrupted code's code segment (iret frame); its low two bits are
    /// the privilege level it ran at.
    pub const CS: u64 = 18 * 8;
    /// The interrupted code's RFLAGS (iret frame).
    pub const RFLAGS: u64 = 19 * 8;
    /// The interrupted code's stack pointer (iret frame).
    pub const RSP: u64 = 20 * 8;
    /// Size of the whole frame.
    pub const SIZE: u64 = 22 * 8;
}
