//! Building a VM for a run with few, cheap host calls. [`create_vm`] runs on
//! its own thread while the caller reads the kernel and prepares the
//! file-system image; [`boot_state`] then writes the kernel image, boot page
//! tables, registers, devices and boot information.
//!
//! On a PVM host every device KVM puts on its I/O buses (the legacy PIC and
//! IOAPIC of a full in-kernel irqchip, an ioeventfd, a coalesced MMIO zone)
//! makes the host wait for a grace period later, when guest RAM is
//! registered, a vCPU is set up or the VM is torn down: 5 to 17 ms, more
//! than the whole rest of a short run (zones registered on the bare VM for
//! the write-only virtio registers saved 11 of a disk's 19 set-up exits,
//! ~0.4 ms, and added 11 to 17 ms); and registering guest
//! RAM once a vCPU or device exists can wait for one too. So guest RAM is
//! registered first, on the bare VM, and the VM gets a
//! split irqchip (KVM_CAP_SPLIT_IRQCHIP): the local APIC in the kernel (the
//! guest's x2APIC timer), no PIC or IOAPIC (the guest masks the PIC and
//! never unmasks an IOAPIC pin: it polls its virtio queues, so device
//! interrupts are never delivered, as with the masked pins of a full
//! irqchip); the irqfds stay registered for a driver that will want them.
//! No ioeventfd is registered: the VMM serves each queue notification at
//! its exit ([`crate::virtio::block`]).

use std::time::{Duration, Instant};

use abi::boot::{CpuMode, DeviceInfo, DeviceKind};
use abi::device::{VIRTIO_IRQ_BASE, VIRTIO_MMIO_BASE, VIRTIO_MMIO_SIZE};
use abi::layout::PAGE_SIZE;
use anyhow::{Context, Result, anyhow, bail};
use kvm_ioctls::{Kvm, VcpuFd, VmFd};
use vm_memory::GuestMemoryBackend;
use vmm_sys_util::eventfd::{EFD_NONBLOCK, EventFd};

use crate::boot::{self, BootParams};
use crate::config::{Config, CpuModeChoice};
use crate::memory::{self, GuestMem};
use crate::profiling::Session;
use crate::virtio::backend::Backend;
use crate::virtio::block::{BlockDevice, Disk};
use crate::virtio::window::RegisterWindows;

/// The KVM objects of a run.
pub struct Vm {
    /// The open `/dev/kvm`.
    pub kvm: Kvm,
    /// The VM.
    pub vm: VmFd,
    /// Its one vCPU.
    pub vcpu: VcpuFd,
    /// The CPU mode the kernel was booted in.
    pub mode: CpuMode,
    /// Whether the host is a PVM host (`None` when not probed).
    pub pvm_host: Option<bool>,
    /// Each device's irq eventfd, registered with the VM as an irqfd.
    pub irqfds: Vec<EventFd>,
    /// Time creating the VM, irqchip, irqfds, vCPU and CPUID took.
    pub create_time: Duration,
    /// Time registering guest RAM took.
    pub memory_time: Duration,
    /// The devices' register windows in guest memory (`None`: the host
    /// cannot map them, and register reads exit to the VMM). Declared after
    /// `vm`, so that the VM goes before the memory it maps.
    pub windows: Option<RegisterWindows>,
}

/// GSIs reserved for a (user-space) IOAPIC by the split irqchip.
const IOAPIC_PINS: u64 = 24;

/// Device `i`'s MMIO window base and GSI.
fn device_slot(i: usize) -> (u64, u32) {
    (
        VIRTIO_MMIO_BASE + i as u64 * VIRTIO_MMIO_SIZE,
        VIRTIO_IRQ_BASE + i as u32,
    )
}

/// Opens KVM, creates the VM, registers `mem`, creates the split irqchip,
/// the irqfds of `devices` virtio devices and the vCPU (picking the CPU
/// mode, setting CPUID), in that order (see the module doc). Fails if KVM is unusable or
/// `--cpu-mode pvm` is asked of a non-PVM host.
pub fn create_vm(config: &Config, mem: &GuestMem, devices: usize) -> Result<Vm> {
    let started = Instant::now();
    let kvm = Kvm::new().map_err(|e| {
        anyhow!("cannot open /dev/kvm: {e} (KVM must be available and this user allowed to use it)")
    })?;
    let vm = kvm.create_vm().context("KVM_CREATE_VM")?;
    // Guest RAM before anything else: on a VM without vCPUs or devices the
    // registration does not wait for the host.
    let before_memory = started.elapsed();
    memory::register(&vm, mem)?;
    let windows = RegisterWindows::map(&kvm, &vm, mem.num_regions() as u32, devices)?;
    let memory_time = started.elapsed() - before_memory;
    let mut split = kvm_bindings::kvm_enable_cap {
        cap: kvm_bindings::KVM_CAP_SPLIT_IRQCHIP,
        ..Default::default()
    };
    split.args[0] = IOAPIC_PINS;
    vm.enable_cap(&split)
        .context("KVM_ENABLE_CAP(KVM_CAP_SPLIT_IRQCHIP)")?;
    let irqfds = (0..devices)
        .map(|i| device_irqfd(&vm, i))
        .collect::<Result<Vec<_>>>()?;
    let vcpu = vm.create_vcpu(0).context("KVM_CREATE_VCPU")?;
    let pvm_host = match config.cpu_mode {
        CpuModeChoice::Native => None,
        CpuModeChoice::Auto | CpuModeChoice::Pvm => Some(crate::pvm::detect_pvm_on(&vcpu)?),
    };
    let mode = match (config.cpu_mode, pvm_host) {
        (CpuModeChoice::Pvm, Some(false)) => {
            bail!("--cpu-mode pvm: this host does not run KVM through PVM (use auto or native)")
        }
        (CpuModeChoice::Native, _) | (_, Some(false)) | (_, None) => CpuMode::Native,
        (_, Some(true)) => CpuMode::Pvm,
    };
    crate::cpuid::setup(&kvm, &vcpu)?;
    let create_time = started.elapsed() - memory_time;
    Ok(Vm {
        kvm,
        vm,
        vcpu,
        mode,
        pvm_host,
        irqfds,
        create_time,
        memory_time,
        windows,
    })
}

/// Device `i`'s irq eventfd (an irqfd on its GSI).
fn device_irqfd(vm: &VmFd, i: usize) -> Result<EventFd> {
    let (_, gsi) = device_slot(i);
    let irq = EventFd::new(EFD_NONBLOCK).context("creating an irq eventfd")?;
    vm.register_irqfd(&irq, gsi)
        .with_context(|| format!("registering virtio device {i}'s irqfd (GSI {gsi})"))?;
    Ok(irq)
}

/// Maps guest RAM (untouched until the guest uses it). Fails if it cannot
/// be mapped.
pub fn create_memory(config: &Config) -> Result<GuestMem> {
    let mem = memory::create(config.mem_size)?;
    memory::advise_huge_pages(&mem);
    Ok(mem)
}

/// Loads the kernel, writes the boot page tables and GDT, sets the vCPU's
/// registers, plugs in the disks (`backends`, in device order, on the VM's
/// irqfds) and writes the boot information (`debugger`: a debugger will
/// attach). Returns the disks and the profiling session. Fails if the
/// kernel does not fit or a register cannot be set.
pub fn boot_state(
    config: &Config,
    machine: &mut Vm,
    mem: &GuestMem,
    kernel: &[u8],
    backends: Vec<(&str, DeviceKind, Box<dyn Backend>)>,
    debugger: bool,
) -> Result<(Vec<Disk>, Session)> {
    let loaded = crate::loader::load_kernel(mem, config.mem_size, kernel, &config.kernel)?;
    let free_start = loaded.phys_end.next_multiple_of(PAGE_SIZE);
    let (profiling, free_start) = Session::prepare(config, mem, free_start)?;
    let mode = machine.mode;
    let pml4 = boot::write_page_tables(mem, config.mem_size, mode == CpuMode::Pvm)?;
    boot::write_gdt(mem)?;

    let vcpu = &machine.vcpu;
    let mut sregs = vcpu.get_sregs().context("KVM_GET_SREGS")?;
    boot::set_long_mode(&mut sregs, pml4);
    vcpu.set_sregs(&sregs).context("KVM_SET_SREGS")?;
    vcpu.set_regs(&boot::entry_regs(loaded.entry))
        .context("KVM_SET_REGS")?;
    vcpu.set_fpu(&boot::entry_fpu()).context("KVM_SET_FPU")?;
    boot::enable_x2apic(vcpu)?;
    if mode == CpuMode::Pvm {
        crate::pvm::register_vif(vcpu, abi::layout::phys::VIF_PAGE)?;
    }
    let tsc_khz = match vcpu.get_tsc_khz() {
        Ok(khz) if khz > 0 => u64::from(khz),
        _ => measure_tsc_khz(),
    };

    let mut disks = Vec::new();
    let mut devices = Vec::new();
    let irqfds = std::mem::take(&mut machine.irqfds);
    for (i, ((name, kind, backend), irq)) in backends.into_iter().zip(irqfds).enumerate() {
        let (base, gsi) = device_slot(i);
        let mut device = BlockDevice::new(backend, &format!("faultline-{name}"));
        if let Some(window) = machine.windows.as_ref().and_then(|w| w.window(i)) {
            device.transport.attach_window(window);
        }
        disks.push(Disk::new(name, base, gsi, device, irq));
        devices.push(DeviceInfo {
            kind,
            irq: gsi,
            mmio_base: base,
        });
    }

    boot::write_boot_info(
        mem,
        &BootParams {
            mem_size: config.mem_size,
            free_start,
            user_pool_pages: config.user_mem.map_or(0, |m| m / PAGE_SIZE),
            cpu_mode: mode,
            devices,
            tsc_khz,
            cmdline: config.cmdline.clone(),
            boot_pml4: pml4,
            profile_buf: profiling.boot_info().0,
            profile_len: profiling.boot_info().1,
            debugger,
            markers: config.stats,
        },
    )?;
    Ok((disks, profiling))
}

/// The host TSC frequency, measured against the monotonic clock (used only when
/// KVM cannot report the guest's).
fn measure_tsc_khz() -> u64 {
    use std::arch::x86_64::_rdtsc;
    let t0 = Instant::now();
    // SAFETY: rdtsc has no memory effects; every x86-64 CPU has it.
    let c0 = unsafe { _rdtsc() };
    std::thread::sleep(Duration::from_millis(20));
    // SAFETY: rdtsc only reads the time-stamp counter, as for `c0`.
    let c1 = unsafe { _rdtsc() };
    let us = t0.elapsed().as_micros().max(1) as u64;
    c1.wrapping_sub(c0) * 1000 / us
}
