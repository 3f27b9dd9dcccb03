//! One run of the VMM: builds the VM (RAM, kernel, boot state, irqchip, disks,
//! the profile buffer when asked), runs the vCPU on the calling thread until the
//! guest stops, then copies files out and reports.

use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use abi::boot::{CpuMode, DeviceInfo, DeviceKind};
use abi::device::{VIRTIO_IRQ_BASE, VIRTIO_MMIO_BASE, VIRTIO_MMIO_SIZE};
use abi::exit::{STATUS_PANIC, STATUS_TIMEOUT, signal_status};
use abi::layout::PAGE_SIZE;
use anyhow::{Context, Result, anyhow, bail};
use kvm_ioctls::{IoEventAddress, Kvm, NoDatamatch, VmFd};
use vmm_sys_util::eventfd::{EFD_NONBLOCK, EventFd};

use crate::boot::{self, BootParams};
use crate::config::{Config, CpuModeChoice, SwapConfig};
use crate::devices::console::Console;
use crate::devices::serial::Serial;
use crate::fsimage::FsImage;
use crate::memory::{self, GuestMem};
use crate::output::Stdout;
use crate::profile::Profile;
use crate::profiling::Session;
use crate::stats::Stats;
use crate::stop::StopControl;
use crate::symbols::Symbols;
use crate::vcpu::{Machine, Stop};
use crate::virtio::backend::{Backend, FileBackend, MemBackend};
use crate::virtio::block::{BlockDevice, Disk};
use crate::virtio::mmio::reg;
use crate::watchdog::Watchdog;

/// How a run ended.
#[derive(Debug)]
pub struct Outcome {
    /// The `faultline` process exit status.
    pub status: u8,
    /// Why the vCPU stopped.
    pub stop: Stop,
    /// Whether the host is a PVM host (`None` when not probed).
    pub pvm_host: Option<bool>,
    pub stats: Stats,
    /// The fault profile, when profiling was asked for and the kernel recorded.
    pub profile: Option<Profile>,
}

/// Runs `config` with the process's standard output and input as the console.
pub fn run(config: &Config) -> Result<Outcome> {
    run_with_io(config, Box::new(Stdout), Box::new(io::stdin()))
}

/// Runs `config` with the console (and serial port) writing to `out` and
/// reading from `input`. Diagnostics go to stderr.
pub fn run_with_io(
    config: &Config,
    out: Box<dyn Write + Send>,
    input: Box<dyn Read + Send>,
) -> Result<Outcome> {
    run_with(config, out, input, &Arc::new(StopControl::new()))
}

/// Runs `config` like [`run_with_io`]; `stop` can stop the run from another
/// thread (the `faultline` binary routes SIGINT, SIGTERM and SIGHUP to it).
/// Fails (after removing its temporary files) if the VM cannot be set up or
/// run, or a file cannot be copied in or out.
pub fn run_with(
    config: &Config,
    out: Box<dyn Write + Send>,
    input: Box<dyn Read + Send>,
    stop: &Arc<StopControl>,
) -> Result<Outcome> {
    config.validate()?;
    let setup_started = Instant::now();
    let gdb = config.gdb.map(crate::gdb::listen).transpose()?;
    let kernel_label = || format!("--kernel {}", config.kernel.display());
    let kernel = fs::read(&config.kernel)
        .context("cannot read it")
        .with_context(kernel_label)?;
    crate::kernel_mark::check(&kernel).with_context(kernel_label)?;
    let symbols = Symbols::from_elf(&kernel);

    let kvm = Kvm::new().map_err(|e| {
        anyhow!("cannot open /dev/kvm: {e} (KVM must be available and this user allowed to use it)")
    })?;

    let fs_image = FsDiskImage::prepare(config)?;
    let mut backends: Vec<(&str, DeviceKind, Box<dyn Backend>)> = vec![(
        "fs",
        DeviceKind::FsDisk,
        Box::new(FileBackend::open(fs_image.path())?),
    )];
    match &config.swap {
        None => {}
        Some(SwapConfig::Memory(size)) => backends.push((
            "swap",
            DeviceKind::SwapDisk,
            Box::new(MemBackend::new(*size)?),
        )),
        Some(SwapConfig::File { path, size }) => backends.push((
            "swap",
            DeviceKind::SwapDisk,
            Box::new(FileBackend::create(path, *size)?),
        )),
    }

    let vm = kvm.create_vm().context("KVM_CREATE_VM")?;
    let mem = memory::create(config.mem_size)?;
    memory::advise_huge_pages(&mem);
    memory::register(&vm, &mem)?;
    vm.create_irq_chip().context("KVM_CREATE_IRQCHIP")?;

    let mut vcpu = vm.create_vcpu(0).context("KVM_CREATE_VCPU")?;
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

    let loaded = crate::loader::load_kernel(&mem, config.mem_size, &kernel, &config.kernel)?;
    let entry = loaded.entry;
    let free_start = loaded.phys_end.next_multiple_of(PAGE_SIZE);
    let (mut profiling, free_start) = Session::prepare(config, &mem, free_start)?;
    let pml4 = boot::write_page_tables(&mem, config.mem_size, mode == CpuMode::Pvm)?;
    boot::write_gdt(&mem)?;

    crate::cpuid::setup(&kvm, &vcpu)?;
    let mut sregs = vcpu.get_sregs().context("KVM_GET_SREGS")?;
    boot::set_long_mode(&mut sregs, pml4);
    vcpu.set_sregs(&sregs).context("KVM_SET_SREGS")?;
    vcpu.set_regs(&boot::entry_regs(entry))
        .context("KVM_SET_REGS")?;
    vcpu.set_fpu(&boot::entry_fpu()).context("KVM_SET_FPU")?;
    boot::enable_x2apic(&vcpu)?;
    if mode == CpuMode::Pvm {
        crate::pvm::register_vif(&vcpu, abi::layout::phys::VIF_PAGE)?;
    }
    let tsc_khz = match vcpu.get_tsc_khz() {
        Ok(khz) if khz > 0 => u64::from(khz),
        _ => measure_tsc_khz(),
    };

    let mut disks = Vec::new();
    let mut devices = Vec::new();
    for (i, (name, kind, backend)) in backends.into_iter().enumerate() {
        let base = VIRTIO_MMIO_BASE + i as u64 * VIRTIO_MMIO_SIZE;
        let gsi = VIRTIO_IRQ_BASE + i as u32;
        disks.push(attach_disk(&vm, &mem, name, base, gsi, backend)?);
        devices.push(DeviceInfo {
            kind,
            irq: gsi,
            mmio_base: base,
        });
    }

    boot::write_boot_info(
        &mem,
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
            debugger: gdb.is_some(),
        },
    )?;

    if !config.quiet {
        crate::diagln!(
            "faultline: booting {} (mode {}, mem {})",
            config.program(),
            mode_name(mode),
            describe_mem(config.mem_size)
        );
    }

    let mut stats = Stats::default();
    stats.setup_time = setup_started.elapsed();
    let mut watchdog = Watchdog::start(config.timeout, stop)?;
    profiling.start(config, &mem, &mut vcpu, &symbols, mode == CpuMode::Pvm)?;
    let stop = {
        let mut machine = Machine {
            mem: &mem,
            disks: &disks,
            console: Console::new(input),
            serial: Serial::default(),
            out,
            symbols: &symbols,
            stats: &mut stats,
            started: None,
            sampler: profiling.sampler(),
            debug: false,
        };
        match &gdb {
            Some(listener) => crate::gdb::serve(
                listener,
                &mut machine,
                &mut vcpu,
                stop,
                mode == CpuMode::Pvm,
            ),
            None => machine.run(&mut vcpu, stop),
        }
    };
    watchdog.finish();
    profiling.stop();
    for disk in &mut disks {
        disk.stop();
    }
    stats.disks = disks.iter().map(Disk::stats).collect();
    let stop = stop?;

    let status = match &stop {
        Stop::Exit(exit) => {
            if let Some(note) = exit.note() {
                crate::diagln!("{note}");
            }
            exit.process_status()
        }
        Stop::Crash(report) => {
            crate::diag!("{report}");
            STATUS_PANIC
        }
        Stop::Timeout => {
            let secs = config.timeout.map_or(0, |t| t.as_secs());
            crate::diagln!("faultline: timeout after {secs} s");
            STATUS_TIMEOUT
        }
        Stop::Killed => {
            crate::diagln!("faultline: killed by the debugger");
            STATUS_TIMEOUT
        }
        Stop::Signal(sig) => {
            crate::diagln!("faultline: stopped by {}", crate::signals::name(*sig));
            signal_status(*sig)
        }
    };

    drop(disks);
    fs_image.copy_out(&config.gets)?;
    let profile = profiling.finish(config, &mem, &stats, &symbols)?;
    if config.stats {
        crate::diag!("{stats}");
        crate::diagln!(
            "  cpu mode: {} (host {})",
            mode_name(mode),
            match pvm_host {
                Some(true) => "PVM",
                Some(false) => "not PVM",
                None => "not probed",
            }
        );
    }
    Ok(Outcome {
        status,
        stop,
        pvm_host,
        stats,
        profile,
    })
}

/// The mode's name as the command line spells it.
pub fn mode_name(mode: CpuMode) -> &'static str {
    match mode {
        CpuMode::Native => "native",
        CpuMode::Pvm => "pvm",
    }
}

/// Creates a block device's eventfds, registers them with KVM and starts it.
fn attach_disk(
    vm: &VmFd,
    mem: &GuestMem,
    name: &str,
    base: u64,
    gsi: u32,
    backend: Box<dyn Backend>,
) -> Result<Disk> {
    let notify = EventFd::new(0).context("creating a notify eventfd")?;
    let irq = EventFd::new(EFD_NONBLOCK).context("creating an irq eventfd")?;
    vm.register_ioevent(
        &notify,
        &IoEventAddress::Mmio(base + reg::QUEUE_NOTIFY),
        NoDatamatch,
    )
    .with_context(|| format!("registering the {name} disk's notify ioeventfd"))?;
    vm.register_irqfd(&irq, gsi)
        .with_context(|| format!("registering the {name} disk's irqfd (GSI {gsi})"))?;
    let device = BlockDevice::new(backend, &format!("faultline-{name}"));
    Disk::start(name, base, gsi, device, mem.clone(), notify, irq)
}

/// The file-system image of a run: the `--disk` image, or a temporary one.
struct FsDiskImage {
    path: PathBuf,
    _temp: Option<tempfile::TempPath>,
}

impl FsDiskImage {
    /// Creates or opens the image, copies `--user-dir` and `--put` files in
    /// and checks the result as the kernel will. Fails with what is wrong,
    /// labelled `--disk IMAGE: ...` for a `--disk` image.
    fn prepare(config: &Config) -> Result<FsDiskImage> {
        let label = |path: &Path| match &config.disk {
            Some(_) => format!("--disk {}", path.display()),
            None => format!("the file-system image {}", path.display()),
        };
        let (path, temp, mut image) = match &config.disk {
            Some(path) if !config.check_disk => {
                // The test switch `--no-disk-check`: the kernel gets the
                // image exactly as it is.
                return Ok(FsDiskImage {
                    path: path.clone(),
                    _temp: None,
                });
            }
            Some(path) if path.exists() => (
                path.clone(),
                None,
                FsImage::open(path).with_context(|| label(path))?,
            ),
            Some(path) => (
                path.clone(),
                None,
                FsImage::create(path, config.fs_size).with_context(|| label(path))?,
            ),
            None => {
                let temp = tempfile::Builder::new()
                    .prefix("faultline-fs-")
                    .suffix(".img")
                    .tempfile()
                    .context("creating a temporary file-system image")?
                    .into_temp_path();
                let image = FsImage::create(&temp, config.fs_size)?;
                (temp.to_path_buf(), Some(temp), image)
            }
        };
        if let Some(dir) = &config.user_dir {
            copy_dir_in(&mut image, dir)?;
        }
        for (host, name) in &config.puts {
            let data =
                fs::read(host).with_context(|| format!("--put: reading {}", host.display()))?;
            image
                .put(name, &data)
                .with_context(|| format!("--put {}", host.display()))?;
        }
        image.check().with_context(|| label(&path))?;
        Ok(FsDiskImage { path, _temp: temp })
    }

    fn path(&self) -> &Path {
        &self.path
    }

    /// Copies `--get` files out of the image.
    fn copy_out(&self, gets: &[(String, PathBuf)]) -> Result<()> {
        if gets.is_empty() {
            return Ok(());
        }
        let image = FsImage::open(&self.path)?;
        for (name, host) in gets {
            let data = image
                .get(name)?
                .with_context(|| format!("--get {name}: no such file in the guest file system"))?;
            fs::write(host, data)
                .with_context(|| format!("--get {name}: writing {}", host.display()))?;
        }
        Ok(())
    }
}

/// Copies every regular file of `dir` into the image (sorted by name).
fn copy_dir_in(image: &mut FsImage, dir: &Path) -> Result<()> {
    let mut files = Vec::new();
    for entry in
        fs::read_dir(dir).with_context(|| format!("--user-dir: reading {}", dir.display()))?
    {
        let entry = entry.with_context(|| format!("--user-dir: reading {}", dir.display()))?;
        let path = entry.path();
        // The directory entry's type needs no extra system call; follow
        // symbolic links (and unknown types) with a stat.
        let is_file = match entry.file_type() {
            Ok(t) if t.is_file() => true,
            Ok(t) if t.is_dir() => false,
            _ => fs::metadata(&path).map(|m| m.is_file()).unwrap_or(false),
        };
        if is_file {
            files.push(path);
        }
    }
    files.sort();
    let mut contents = Vec::with_capacity(files.len());
    for path in files {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .with_context(|| format!("--user-dir: file name {} is not UTF-8", path.display()))?;
        let data =
            fs::read(&path).with_context(|| format!("--user-dir: reading {}", path.display()))?;
        contents.push((name.to_string(), data));
    }
    image
        .put_all(&contents)
        .with_context(|| format!("--user-dir: copying {}", dir.display()))?;
    Ok(())
}

/// `64 MiB`, or KiB when not a whole number of MiB.
fn describe_mem(bytes: u64) -> String {
    if bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else {
        format!("{} KiB", bytes >> 10)
    }
}

/// The host TSC frequency, measured against the monotonic clock (used only when
/// KVM cannot report the guest's).
fn measure_tsc_khz() -> u64 {
    use std::arch::x86_64::_rdtsc;
    let t0 = Instant::now();
    // SAFETY: rdtsc has no memory effects; every x86-64 CPU has it.
    let c0 = unsafe { _rdtsc() };
    std::thread::sleep(std::time::Duration::from_millis(20));
    // SAFETY: as above.
    let c1 = unsafe { _rdtsc() };
    let us = t0.elapsed().as_micros().max(1) as u64;
    c1.wrapping_sub(c0) * 1000 / us
}
