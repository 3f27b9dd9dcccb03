//! One run of the VMM, phase by phase (each timed for `--stats`): read and
//! check the kernel, prepare the file-system image, create the VM, map guest
//! RAM, write the boot state ([`crate::setup`]), run the vCPU on the calling
//! thread until the guest stops, then copy files out, report and tear the VM
//! down.

use std::io::{self, Read, Write};
use std::sync::Arc;
use std::time::Instant;

use abi::boot::{CpuMode, DeviceKind};
use abi::exit::{STATUS_PANIC, STATUS_TIMEOUT, signal_status};
use anyhow::{Context, Result, anyhow};

use crate::config::{Config, SwapConfig};
use crate::devices::console::Console;
use crate::devices::serial::Serial;
use crate::fs_disk::FsDisk;
use crate::output::Stdout;
use crate::profile::Profile;
use crate::stats::Stats;
use crate::stop::StopControl;
use crate::symbols::{LazySymbols, Symbols};
use crate::vcpu::{Machine, Stop};
use crate::virtio::backend::{Backend, FileBackend, MemBackend};
use crate::virtio::block::Disk;
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
    /// Counts of the run's exits, faults and device work.
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

/// Measures consecutive phases.
struct Lap(Instant);

impl Lap {
    /// The time since the last lap.
    fn lap(&mut self) -> std::time::Duration {
        let now = Instant::now();
        let d = now - self.0;
        self.0 = now;
        d
    }
}

/// What a run needs besides the VM: the kernel image (with its symbols), the
/// file-system disk and the disks' backends.
type Inputs = (
    LazySymbols,
    FsDisk,
    Vec<(&'static str, DeviceKind, Box<dyn Backend>)>,
);

/// Reads and checks the kernel, prepares the file-system image and the swap
/// disk; times the `kernel` and `image` phases.
fn prepare_inputs(config: &Config, stats: &mut Stats) -> Result<Inputs> {
    let mut clock = Lap(Instant::now());
    let kernel_label = || format!("--kernel {}", config.kernel.display());
    let kernel = crate::loader::read_loadable(&config.kernel).with_context(kernel_label)?;
    crate::kernel_mark::check(&kernel).with_context(kernel_label)?;
    let kernel = LazySymbols::new(&config.kernel, kernel);
    stats.phases.kernel = clock.lap();

    let (fs_disk, source) = FsDisk::prepare(config)?;
    stats.image_source = source.name();
    let mut backends: Vec<(&str, DeviceKind, Box<dyn Backend>)> =
        vec![("fs", DeviceKind::FsDisk, fs_disk.backend()?)];
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
    stats.phases.image = clock.lap();
    Ok((kernel, fs_disk, backends))
}

/// Runs `config` like [`run_with_io`]; `stop` can stop the run from another
/// thread (the `faultline` binary routes SIGINT, SIGTERM and SIGHUP to it).
/// Fails (leaving nothing behind) if the VM cannot be set up or run, or a
/// file cannot be copied in or out.
pub fn run_with(
    config: &Config,
    out: Box<dyn Write + Send>,
    input: Box<dyn Read + Send>,
    stop: &Arc<StopControl>,
) -> Result<Outcome> {
    config.validate()?;
    let mut stats = Stats::default();
    let started = Instant::now();
    let gdb = config.gdb.map(crate::gdb::listen).transpose()?;
    let mem = crate::setup::create_memory(config)?;
    let devices = 1 + usize::from(config.swap.is_some());
    // The KVM side (and the watchdog's thread) on its own thread, as it
    // waits on the host (see `crate::setup`), while this one reads the kernel
    // and prepares the image.
    let (vm, prepared) = std::thread::scope(|s| {
        let creating = std::thread::Builder::new()
            .name("vm-setup".into())
            .spawn_scoped(s, || {
                let watchdog = Watchdog::start(config.timeout, stop)?;
                Ok((crate::setup::create_vm(config, &mem, devices)?, watchdog))
            });
        let prepared = prepare_inputs(config, &mut stats);
        let vm = match creating {
            Ok(thread) => thread
                .join()
                .unwrap_or_else(|_| Err(anyhow!("the VM set-up thread panicked"))),
            Err(e) => Err(anyhow!("starting the VM set-up thread: {e}")),
        };
        (vm, prepared)
    });
    let (kernel, fs_disk, backends) = prepared?;
    let (mut vm, mut watchdog) = vm?;
    stats.phases.vm = vm.create_time;
    stats.phases.memory = vm.memory_time;
    stats.register_windows = Some(vm.windows.is_some());
    let mut clock = Lap(Instant::now());
    let (disks, mut profiling) =
        crate::setup::boot_state(config, &mut vm, &mem, kernel.elf(), backends, gdb.is_some())?;
    stats.phases.boot = clock.lap();
    stats.setup_time = started.elapsed();

    if !config.quiet {
        crate::diagln!(
            "faultline: booting {} (mode {}, mem {})",
            config.program(),
            mode_name(vm.mode),
            describe_mem(config.mem_size)
        );
    }
    // Profiling needs the kernel's symbols; nothing else parses them unless
    // a crash or panic report does.
    let unparsed = Symbols::default();
    let symbols = if config.profiling() {
        kernel.get()
    } else {
        &unparsed
    };
    profiling.start(config, &mem, &mut vm.vcpu, symbols, vm.mode == CpuMode::Pvm)?;
    let mut machine = Machine {
        mem: &mem,
        disks: &disks,
        console: Console::new(input),
        serial: Serial::default(),
        out,
        symbols: &kernel,
        stats: &mut stats,
        started: None,
        sampler: profiling.sampler(),
        debug: false,
    };
    let pvm_mode = vm.mode == CpuMode::Pvm;
    let stopped = match &gdb {
        Some(listener) => crate::gdb::serve(listener, &mut machine, &mut vm.vcpu, stop, pvm_mode),
        None => machine.run(&mut vm.vcpu, stop),
    };
    // What the kernel still held back (a run stopped by a timeout or a
    // signal), before anything the VMM says about the stop.
    machine.console.write_held(&mem, machine.out.as_mut());
    drop(machine);
    watchdog.finish();
    profiling.stop();
    stats.phases.run = clock.lap();

    stats.disks = disks.iter().map(Disk::stats).collect();
    let stopped = stopped?;
    let status = report(config, &stopped);
    drop(disks);
    fs_disk.copy_out(&config.gets)?;
    let profile = profiling.finish(config, &mem, &stats, symbols)?;
    let (mode, pvm_host) = (vm.mode, vm.pvm_host);
    drop(vm);
    drop(mem);
    drop(fs_disk);
    stats.phases.teardown = clock.lap();
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
        stop: stopped,
        pvm_host,
        stats,
        profile,
    })
}

/// Says how the run ended (when it needs saying) and returns the status.
fn report(config: &Config, stopped: &Stop) -> u8 {
    match stopped {
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
            let secs = crate::config::format_secs(config.timeout.unwrap_or_default());
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
    }
}

/// The mode's name as the command line spells it.
pub fn mode_name(mode: CpuMode) -> &'static str {
    match mode {
        CpuMode::Native => "native",
        CpuMode::Pvm => "pvm",
    }
}

/// `64 MiB`, or KiB when not a whole number of MiB.
fn describe_mem(bytes: u64) -> String {
    if bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else {
        format!("{} KiB", bytes >> 10)
    }
}
