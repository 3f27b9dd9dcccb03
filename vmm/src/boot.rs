//! The boot state the kernel starts in: boot page tables, the GDT, the
//! `BootInfo` block with the command line, and the long-mode registers.
//!
//! Page tables (all 2 MiB pages, entries present + writable, and user-accessible
//! when `user_bit` is set, which the PVM guest mode needs):
//! - PML4 slot 0: identity map of [0, 1 GiB);
//! - the slot of `DIRECT_MAP_BASE`: [0, max(RAM rounded up to 1 GiB, 4 GiB)), which
//!   also covers the virtio-mmio window, the IOAPIC and the LAPIC;
//! - the slot and PDPT entry of `KERNEL_VIRT_BASE`: [0, 1 GiB).

use std::mem::{offset_of, size_of};

use abi::boot::{BOOT_MAGIC, BootInfo, CpuMode, DeviceInfo, MAX_DEVICES};
use abi::layout::{DIRECT_MAP_BASE, KERNEL_VIRT_BASE, gdt, phys};
use anyhow::{Context, Result, bail, ensure};
use kvm_bindings::{kvm_fpu, kvm_regs, kvm_segment, kvm_sregs};
use vm_memory::{Bytes, GuestAddress};

use crate::memory::GuestMem;

use abi::layout::pte::{
    HUGE as PTE_HUGE, PRESENT as PTE_PRESENT, USER as PTE_USER, WRITABLE as PTE_WRITABLE,
};

const GIB: u64 = 1 << 30;
const PAGE: u64 = 4096;

/// CR0 = PE | MP | ET | NE | WP | AM | PG.
pub const CR0: u64 = 0x8005_0033;
/// CR4 = PAE | OSFXSR | OSXMMEXCPT.
pub const CR4: u64 = 0x620;
/// EFER = SCE | LME | LMA | NXE.
pub const EFER: u64 = 0xd01;

/// PML4 index of a virtual address.
const fn pml4_index(va: u64) -> u64 {
    (va >> 39) & 511
}

/// PDPT index of a virtual address.
const fn pdpt_index(va: u64) -> u64 {
    (va >> 30) & 511
}

/// Writes the boot page tables for `mem_size` bytes of RAM at `phys::BOOT_PAGE_TABLES`.
/// Returns the guest-physical address of the (kernel-half) PML4.
pub fn write_page_tables(mem: &GuestMem, mem_size: u64, user_bit: bool) -> Result<u64> {
    let flags = PTE_PRESENT | PTE_WRITABLE | if user_bit { PTE_USER } else { 0 };
    let pml4 = phys::BOOT_PAGE_TABLES;
    // The user half of the 8 KiB PML4 pair stays zero.
    let mut next = pml4 + 2 * PAGE;
    let mut alloc = || {
        let page = next;
        next += PAGE;
        page
    };
    let write = |addr: u64, value: u64| {
        mem.write_obj(value, GuestAddress(addr))
            .with_context(|| format!("writing a boot page-table entry at {addr:#x}"))
    };
    // One PD mapping the GiB at `base` with 2 MiB pages, written in one go.
    let write_pd = |pd: u64, base: u64| -> Result<()> {
        let mut table = [0u8; PAGE as usize];
        for (i, entry) in table.chunks_exact_mut(8).enumerate() {
            let value = (base + ((i as u64) << 21)) | flags | PTE_HUGE;
            entry.copy_from_slice(&value.to_le_bytes());
        }
        mem.write_slice(&table, GuestAddress(pd))
            .with_context(|| format!("writing a boot page directory at {pd:#x}"))
    };

    // Identity map of the first GiB.
    let pdpt_low = alloc();
    let pd_low = alloc();
    write_pd(pd_low, 0)?;
    write(pdpt_low, pd_low | flags)?;
    write(pml4, pdpt_low | flags)?;

    // Kernel-image map of the first GiB.
    let pdpt_kernel = alloc();
    let pd_kernel = alloc();
    write_pd(pd_kernel, 0)?;
    write(
        pdpt_kernel + pdpt_index(KERNEL_VIRT_BASE) * 8,
        pd_kernel | flags,
    )?;
    write(pml4 + pml4_index(KERNEL_VIRT_BASE) * 8, pdpt_kernel | flags)?;

    // Direct map of RAM and the MMIO hole below 4 GiB.
    let gibs = mem_size.div_ceil(GIB).max(4);
    let pdpt_direct = alloc();
    ensure!(
        pdpt_index(DIRECT_MAP_BASE) + gibs <= 512,
        "direct map does not fit one PDPT"
    );
    for g in 0..gibs {
        let pd = alloc();
        write_pd(pd, g * GIB)?;
        write(
            pdpt_direct + (pdpt_index(DIRECT_MAP_BASE) + g) * 8,
            pd | flags,
        )?;
    }
    write(pml4 + pml4_index(DIRECT_MAP_BASE) * 8, pdpt_direct | flags)?;

    if next > phys::BOOT_PAGE_TABLES_END {
        bail!("boot page tables overflow their area ({next:#x})");
    }
    Ok(pml4)
}

/// A GDT descriptor for a code or data segment with base 0 and a 4 GiB limit.
const fn segment_descriptor(access: u64, flags: u64) -> u64 {
    0xffff | (0xf << 48) | (access << 40) | (flags << 52)
}

/// The boot GDT: the Linux layout of `abi::layout::gdt`.
pub fn gdt_entries() -> [u64; 10] {
    let mut g = [0u64; 10];
    // access: P | DPL | S | type; flags: G | D/B | L.
    g[(gdt::KERNEL_CS / 8) as usize] = segment_descriptor(0x9b, 0xa); // code64, DPL 0
    g[(gdt::KERNEL_DS / 8) as usize] = segment_descriptor(0x93, 0xc); // data, DPL 0
    g[(gdt::USER_CS32 / 8) as usize] = segment_descriptor(0xfb, 0xc); // code32, DPL 3
    g[(gdt::USER_DS / 8) as usize] = segment_descriptor(0xf3, 0xc); // data, DPL 3
    g[(gdt::USER_CS / 8) as usize] = segment_descriptor(0xfb, 0xa); // code64, DPL 3
    // 16-byte available 64-bit TSS, base 0, limit 0x67 (the kernel installs its own).
    g[(gdt::TSS / 8) as usize] = 0x67 | (0x89 << 40);
    g[(gdt::TSS / 8) as usize + 1] = 0;
    g
}

/// Writes the GDT at `phys::GDT`.
pub fn write_gdt(mem: &GuestMem) -> Result<()> {
    for (i, e) in gdt_entries().iter().enumerate() {
        mem.write_obj(*e, GuestAddress(phys::GDT + i as u64 * 8))
            .context("writing the boot GDT")?;
    }
    Ok(())
}

/// What goes into the `BootInfo` block.
#[derive(Clone, Debug)]
pub struct BootParams {
    /// Bytes of guest RAM.
    pub mem_size: u64,
    /// First free byte after the kernel image (page-aligned).
    pub free_start: u64,
    /// Most frames of the user pool (`--user-mem`); 0 for the kernel's default.
    pub user_pool_pages: u64,
    /// The CPU mode the kernel runs in.
    pub cpu_mode: CpuMode,
    /// The devices, at most `abi::boot::MAX_DEVICES`.
    pub devices: Vec<DeviceInfo>,
    /// TSC frequency in kHz.
    pub tsc_khz: u64,
    /// The initial command line (program and arguments).
    pub cmdline: String,
    /// Guest-physical address of the kernel half of the boot PML4 pair.
    pub boot_pml4: u64,
    /// The fault-profile buffer's guest-physical address, 0 when off.
    pub profile_buf: u64,
    /// The fault-profile buffer's size in bytes, 0 when off.
    pub profile_len: u64,
    /// A debugger may attach (`--gdb`).
    pub debugger: bool,
    /// The kernel writes its boot milestones to the marker port (`--stats`).
    pub markers: bool,
}

/// Writes the command line at `phys::CMDLINE` and the `BootInfo` at `phys::BOOT_INFO`.
pub fn write_boot_info(mem: &GuestMem, p: &BootParams) -> Result<()> {
    ensure!(
        p.cmdline.len() <= abi::syscall::CMDLINE_MAX,
        "command line too long"
    );
    ensure!(p.devices.len() <= MAX_DEVICES, "too many devices");
    let mut cmdline = p.cmdline.as_bytes().to_vec();
    cmdline.push(0);
    mem.write_slice(&cmdline, GuestAddress(phys::CMDLINE))
        .context("writing the command line")?;

    let base = phys::BOOT_INFO;
    let w64 = |off: usize, v: u64| {
        mem.write_obj(v, GuestAddress(base + off as u64))
            .context("writing BootInfo")
    };
    let w32 = |off: usize, v: u32| {
        mem.write_obj(v, GuestAddress(base + off as u64))
            .context("writing BootInfo")
    };
    mem.write_slice(&[0u8; size_of::<BootInfo>()], GuestAddress(base))
        .context("clearing BootInfo")?;
    w64(offset_of!(BootInfo, magic), BOOT_MAGIC)?;
    w64(offset_of!(BootInfo, mem_size), p.mem_size)?;
    w64(offset_of!(BootInfo, free_start), p.free_start)?;
    w64(offset_of!(BootInfo, user_pool_pages), p.user_pool_pages)?;
    w32(offset_of!(BootInfo, cpu_mode), p.cpu_mode as u32)?;
    w32(offset_of!(BootInfo, n_devices), p.devices.len() as u32)?;
    for (i, d) in p.devices.iter().enumerate() {
        let off = offset_of!(BootInfo, devices) + i * size_of::<DeviceInfo>();
        w32(off + offset_of!(DeviceInfo, kind), d.kind as u32)?;
        w32(off + offset_of!(DeviceInfo, irq), d.irq)?;
        w64(off + offset_of!(DeviceInfo, mmio_base), d.mmio_base)?;
    }
    w64(offset_of!(BootInfo, tsc_khz), p.tsc_khz)?;
    w64(offset_of!(BootInfo, cmdline_addr), phys::CMDLINE)?;
    w64(offset_of!(BootInfo, cmdline_len), p.cmdline.len() as u64)?;
    let vif_page = if p.cpu_mode == CpuMode::Pvm {
        abi::layout::phys::VIF_PAGE
    } else {
        0
    };
    w64(offset_of!(BootInfo, vif_page), vif_page)?;
    w64(offset_of!(BootInfo, boot_pml4), p.boot_pml4)?;
    w64(offset_of!(BootInfo, profile_buf), p.profile_buf)?;
    w64(offset_of!(BootInfo, profile_len), p.profile_len)?;
    w64(offset_of!(BootInfo, debugger), u64::from(p.debugger))?;
    w64(offset_of!(BootInfo, markers), u64::from(p.markers))?;
    Ok(())
}

/// A flat 64-bit-mode segment register.
fn segment(selector: u16, type_: u8, long: bool) -> kvm_segment {
    kvm_segment {
        base: 0,
        limit: 0xffff_ffff,
        selector,
        type_,
        present: 1,
        dpl: (selector & 3) as u8,
        db: u8::from(!long),
        s: 1,
        l: u8::from(long),
        g: 1,
        avl: 0,
        unusable: 0,
        padding: 0,
    }
}

/// Fills the special registers for long mode with paging on `pml4`.
pub fn set_long_mode(sregs: &mut kvm_sregs, pml4: u64) {
    sregs.gdt.base = phys::GDT;
    sregs.gdt.limit = (gdt_entries().len() * 8 - 1) as u16;
    sregs.idt.base = 0;
    sregs.idt.limit = 0;
    sregs.cs = segment(gdt::KERNEL_CS, 0xb, true);
    let data = segment(gdt::KERNEL_DS, 0x3, false);
    sregs.ds = data;
    sregs.es = data;
    sregs.ss = data;
    sregs.fs = data;
    sregs.gs = data;
    sregs.tr = kvm_segment {
        base: 0,
        limit: 0x67,
        selector: gdt::TSS,
        type_: 0xb, // busy 64-bit TSS
        present: 1,
        dpl: 0,
        db: 0,
        s: 0,
        l: 0,
        g: 0,
        avl: 0,
        unusable: 0,
        padding: 0,
    };
    sregs.ldt = kvm_segment {
        type_: 0x2,
        unusable: 1,
        ..Default::default()
    };
    sregs.cr0 = CR0;
    sregs.cr3 = pml4;
    sregs.cr4 = CR4;
    sregs.efer = EFER;
}

/// General registers at entry: `rip = entry`, `rdi = &BootInfo`.
pub fn entry_regs(entry: u64) -> kvm_regs {
    kvm_regs {
        rip: entry,
        rdi: phys::BOOT_INFO,
        rsp: 0,
        rflags: 2,
        ..Default::default()
    }
}

/// The x87/SSE state at entry (default control words).
pub fn entry_fpu() -> kvm_fpu {
    kvm_fpu {
        fcw: 0x37f,
        mxcsr: 0x1f80,
        ..Default::default()
    }
}

/// IA32_APIC_BASE: the architectural base, BSP, enabled, x2APIC mode.
const APIC_BASE_X2APIC: u64 = 0xfee0_0000 | (1 << 8) | (1 << 11) | (1 << 10);

/// Puts the vCPU's local APIC in x2APIC mode before boot (a host-initiated
/// write; the PVM guest mode cannot switch it from inside).
pub fn enable_x2apic(vcpu: &kvm_ioctls::VcpuFd) -> Result<()> {
    let msrs = kvm_bindings::Msrs::from_entries(&[kvm_bindings::kvm_msr_entry {
        index: 0x1b,
        data: APIC_BASE_X2APIC,
        ..Default::default()
    }])
    .context("building the MSR list")?;
    let written = vcpu.set_msrs(&msrs).context("KVM_SET_MSRS (APIC base)")?;
    ensure!(written == 1, "KVM refused x2APIC mode for the local APIC");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory;

    fn read(mem: &GuestMem, addr: u64) -> u64 {
        mem.read_obj(GuestAddress(addr)).unwrap()
    }

    /// Walks the boot tables like the MMU: returns the physical address of `va`.
    fn translate(mem: &GuestMem, pml4: u64, va: u64) -> Option<u64> {
        let e4 = read(mem, pml4 + pml4_index(va) * 8);
        if e4 & PTE_PRESENT == 0 {
            return None;
        }
        let e3 = read(mem, (e4 & !0xfff) + pdpt_index(va) * 8);
        if e3 & PTE_PRESENT == 0 {
            return None;
        }
        let e2 = read(mem, (e3 & !0xfff) + ((va >> 21) & 511) * 8);
        if e2 & PTE_PRESENT == 0 || e2 & PTE_HUGE == 0 {
            return None;
        }
        Some((e2 & !0x1f_ffff & ((1 << 52) - 1)) + (va & 0x1f_ffff))
    }

    #[test]
    fn page_tables_map_the_three_windows() {
        let mem = memory::create(64 << 20).unwrap();
        let pml4 = write_page_tables(&mem, 64 << 20, false).unwrap();
        assert_eq!(pml4, phys::BOOT_PAGE_TABLES);
        assert_eq!(translate(&mem, pml4, 0x20_1234), Some(0x20_1234));
        assert_eq!(translate(&mem, pml4, 0x4000_0000), None);
        assert_eq!(
            translate(&mem, pml4, KERNEL_VIRT_BASE + 0x20_0000),
            Some(0x20_0000)
        );
        assert_eq!(translate(&mem, pml4, KERNEL_VIRT_BASE + GIB), None);
        assert_eq!(
            translate(&mem, pml4, DIRECT_MAP_BASE + 0xd000_0010),
            Some(0xd000_0010)
        );
        assert_eq!(
            translate(&mem, pml4, DIRECT_MAP_BASE + 0xfee0_0000),
            Some(0xfee0_0000)
        );
        assert_eq!(translate(&mem, pml4, DIRECT_MAP_BASE + 4 * GIB), None);
        // The user half of the pair is empty, and nothing is in slot 256.
        for i in 0..512 {
            assert_eq!(read(&mem, pml4 + PAGE + i * 8), 0);
        }
        assert_eq!(read(&mem, pml4 + 256 * 8), 0);
        assert_eq!(read(&mem, pml4) & PTE_USER, 0);
    }

    #[test]
    fn user_bit_is_set_everywhere_when_asked() {
        let mem = memory::create(64 << 20).unwrap();
        let pml4 = write_page_tables(&mem, 64 << 20, true).unwrap();
        let e4 = read(&mem, pml4 + pml4_index(DIRECT_MAP_BASE) * 8);
        assert_ne!(e4 & PTE_USER, 0);
        let e3 = read(&mem, (e4 & !0xfff) + pdpt_index(DIRECT_MAP_BASE) * 8);
        assert_ne!(e3 & PTE_USER, 0);
        assert_ne!(read(&mem, e3 & !0xfff) & PTE_USER, 0);
    }

    #[test]
    fn large_memory_gets_a_wider_direct_map() {
        let mem = memory::create(16 << 20).unwrap();
        // Tables for 3 GiB of RAM still fit the reserved area.
        write_page_tables(&mem, 3 * GIB, false).unwrap();
    }

    #[test]
    fn gdt_has_the_linux_layout() {
        let g = gdt_entries();
        assert_eq!(g[2], 0x00af_9b00_0000_ffff);
        assert_eq!(g[3], 0x00cf_9300_0000_ffff);
        assert_eq!(g[4], 0x00cf_fb00_0000_ffff);
        assert_eq!(g[5], 0x00cf_f300_0000_ffff);
        assert_eq!(g[6], 0x00af_fb00_0000_ffff);
        assert_eq!(g[8], 0x0000_8900_0000_0067);
    }

    #[test]
    fn boot_info_lands_at_the_abi_offsets() {
        let mem = memory::create(16 << 20).unwrap();
        let p = BootParams {
            mem_size: 16 << 20,
            free_start: 0x40_0000,
            user_pool_pages: 7,
            cpu_mode: CpuMode::Native,
            devices: vec![DeviceInfo {
                kind: abi::boot::DeviceKind::FsDisk,
                irq: 5,
                mmio_base: 0xd000_0000,
            }],
            tsc_khz: 2_000_000,
            cmdline: "echo hi".into(),
            boot_pml4: 0x10000,
            profile_buf: 0x50_0000,
            profile_len: 0x6_c000,
            debugger: true,
            markers: true,
        };
        write_boot_info(&mem, &p).unwrap();
        let mut raw = [0u8; size_of::<BootInfo>()];
        mem.read_slice(&mut raw, GuestAddress(phys::BOOT_INFO))
            .unwrap();
        // SAFETY: BootInfo is plain repr(C) data; every field written above holds a
        // valid value (the enums were written from their own discriminants).
        let info: BootInfo = unsafe { std::ptr::read_unaligned(raw.as_ptr().cast()) };
        assert_eq!(info.magic, BOOT_MAGIC);
        assert_eq!(info.mem_size, 16 << 20);
        assert_eq!(info.free_start, 0x40_0000);
        assert_eq!(info.user_pool_pages, 7);
        assert_eq!(info.mode(), Some(CpuMode::Native));
        assert_eq!(info.n_devices, 1);
        assert_eq!(info.devices[0].kind, abi::boot::DeviceKind::FsDisk);
        assert_eq!(info.devices[0].irq, 5);
        assert_eq!(info.devices[0].mmio_base, 0xd000_0000);
        assert_eq!(info.devices[1].kind, abi::boot::DeviceKind::None);
        assert_eq!(info.tsc_khz, 2_000_000);
        assert_eq!(info.cmdline_addr, phys::CMDLINE);
        assert_eq!(info.cmdline_len, 7);
        assert_eq!(info.boot_pml4, 0x10000);
        assert_eq!(info.profile_buf, 0x50_0000);
        assert_eq!(info.profile_len, 0x6_c000);
        assert_eq!(info.debugger, 1);
        assert_eq!(info.markers, 1);
        let mut cmd = [0u8; 8];
        mem.read_slice(&mut cmd, GuestAddress(phys::CMDLINE))
            .unwrap();
        assert_eq!(&cmd, b"echo hi\0");
    }
}
