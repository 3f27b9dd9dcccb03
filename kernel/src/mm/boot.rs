//! The boot information the VMM leaves in guest RAM before the vCPU starts
//! (`abi::boot`): the [`BootInfo`] block and the initial command line, read
//! in place through the direct map. The kernel never writes either, and
//! their frames lie below `BootInfo::free_start`, outside every allocator;
//! so does the one word the kernel writes back for the VMM
//! ([`publish_console_held`]).

use abi::boot::{BOOT_MAGIC, BootInfo};
use abi::layout::phys;
use abi::syscall::CMDLINE_MAX;

use super::phys_to_virt;

/// The [`BootInfo`] at guest-physical `pa`, the address `_start` received.
/// Panics (the boot cannot go on) if `pa` is not where the boot contract
/// puts the block (`abi::layout::phys::BOOT_INFO`) or its magic is wrong.
pub fn info(pa: u64) -> &'static BootInfo {
    if pa != phys::BOOT_INFO {
        panic!("boot info at {pa:#x}, not at {:#x}", phys::BOOT_INFO);
    }
    let block = phys_to_virt(phys::BOOT_INFO) as *const BootInfo;
    // SAFETY: by the boot contract the VMM wrote a whole, valid BootInfo at
    // phys::BOOT_INFO (page-aligned, inside RAM) before the vCPU started, and
    // the boot page tables map all RAM at DIRECT_MAP_BASE; nothing writes the
    // block afterwards (see the module doc), so a shared 'static reference
    // is sound.
    let boot = unsafe { &*block };
    if boot.magic != BOOT_MAGIC {
        panic!("bad boot-info magic {:#x}", boot.magic);
    }
    boot
}

/// The initial command line of `boot`: `cmdline_len` bytes (at most
/// [`CMDLINE_MAX`]) at `cmdline_addr`. A line that does not lie inside RAM
/// reads as empty, and the initial program then fails to start.
pub fn cmdline(boot: &'static BootInfo) -> &'static [u8] {
    let len = (boot.cmdline_len as usize).min(CMDLINE_MAX);
    let inside_ram = boot
        .cmdline_addr
        .checked_add(len as u64)
        .is_some_and(|end| end <= boot.mem_size);
    if !inside_ram {
        return &[];
    }
    let start = phys_to_virt(boot.cmdline_addr) as *const u8;
    // SAFETY: the `len` bytes lie inside guest RAM (checked above), which the
    // direct map covers; the VMM wrote them before boot and nothing writes
    // them afterwards (see the module doc), so a shared 'static slice is
    // sound.
    unsafe { core::slice::from_raw_parts(start, len) }
}

/// Leaves `desc_pa`, the guest-physical address of the console's held-back
/// output descriptor, at `abi::layout::phys::CONSOLE_HELD`, where the VMM
/// reads it when it stops a run itself.
pub fn publish_console_held(desc_pa: u64) {
    let word = phys_to_virt(phys::CONSOLE_HELD) as *mut u64;
    // SAFETY: by the boot contract the page at phys::CONSOLE_HELD is guest
    // RAM below `free_start`, outside every allocator and reserved for this
    // word, which nothing else in the kernel reads or writes; the boot page
    // tables map all RAM at DIRECT_MAP_BASE, writable. A volatile write:
    // the VMM, not the kernel, reads it.
    unsafe { word.write_volatile(desc_pa) };
}
