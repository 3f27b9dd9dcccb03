//! The vCPU run loop: enters the guest with `KVM_RUN` and serves each exit
//! (port I/O devices, virtio-mmio registers) until the guest ends the run,
//! crashes, or the watchdog fires. Under a debugger ([`Machine::debug`]) it
//! also pauses on debug events ([`Machine::run_until`]).

use std::io::Write;
use std::sync::PoisonError;
use std::time::Instant;

use abi::debug::DEBUG_PORT;
use abi::device::{
    CONSOLE_IN_PORT, CONSOLE_PORT, EXIT_PORT, MARKER_PORT, PANIC_PORT, SERIAL_PORT,
    VIRTIO_MMIO_BASE, VIRTIO_MMIO_SIZE,
};
use anyhow::{Result, bail};
use kvm_bindings::kvm_debug_exit_arch;
use kvm_ioctls::{VcpuExit, VcpuFd};

use crate::devices::console::Console;
use crate::devices::exit::GuestExit;
use crate::devices::panic;
use crate::devices::serial::{self, Serial};
use crate::memory::GuestMem;
use crate::sampler::Sampler;
use crate::stats::{ExitKind, Stats};
use crate::stop::{StopControl, StopReason};
use crate::symbols::LazySymbols;
use crate::virtio::block::Disk;
use crate::virtio::mmio::WriteEffect;

/// Guest-physical address of a kernel virtual address (kernel image or direct
/// map), without walking the guest's page tables.
fn kernel_virt_to_phys(va: u64) -> Option<u64> {
    use abi::layout::{DIRECT_MAP_BASE, KERNEL_VIRT_BASE};
    if va >= KERNEL_VIRT_BASE {
        Some(va - KERNEL_VIRT_BASE)
    } else if (DIRECT_MAP_BASE..DIRECT_MAP_BASE + (1 << 39)).contains(&va) {
        Some(va - DIRECT_MAP_BASE)
    } else {
        None
    }
}

/// Return addresses along the guest's frame-pointer chain from `rbp` (kernel
/// stacks only; stops at the first frame it cannot read).
fn frame_chain(mem: &GuestMem, mut rbp: u64) -> Vec<u64> {
    let mut frames = Vec::new();
    while frames.len() < abi::device::PANIC_FRAMES_MAX && rbp != 0 && rbp.is_multiple_of(8) {
        let Some([next, ret]) =
            kernel_virt_to_phys(rbp).and_then(|pa| crate::memory::read_u64s::<2>(mem, pa))
        else {
            break;
        };
        if ret == 0 {
            break;
        }
        frames.push(ret);
        if next <= rbp {
            break;
        }
        rbp = next;
    }
    frames
}

/// Describes the `KVM_EXIT_INTERNAL_ERROR` the vCPU just reported.
fn internal_error(vcpu: &mut VcpuFd) -> String {
    // SAFETY: after KVM_EXIT_INTERNAL_ERROR, KVM fills the `internal` member of
    // the exit-information union; it is plain integers.
    let info = unsafe { vcpu.get_kvm_run().__bindgen_anon_1.internal };
    let kind = match info.suberror {
        1 => "instruction emulation failed",
        2 => "exception while emulating",
        3 => "cannot deliver an event",
        4 => "unexpected exit reason",
        _ => "unknown",
    };
    let n = (info.ndata as usize).min(info.data.len());
    let data: Vec<String> = info.data[..n].iter().map(|d| format!("{d:#x}")).collect();
    let mut s = format!(
        "KVM internal error (KVM_EXIT_INTERNAL_ERROR): {kind} (suberror {})",
        info.suberror
    );
    if info.suberror == 1 {
        s += "; on PVM hosts ring-0 code is emulated and some instructions (SSE: ldmxcsr, stmxcsr, xorps; xsave) are not";
    }
    if !data.is_empty() {
        s += &format!("; data {}", data.join(" "));
    }
    s
}

/// Whether the `KVM_EXIT_INTERNAL_ERROR` just returned is an instruction
/// KVM could not emulate.
fn emulation_failed(vcpu: &mut VcpuFd) -> bool {
    // SAFETY: as in `internal_error`.
    let info = unsafe { vcpu.get_kvm_run().__bindgen_anon_1.internal };
    info.suberror == kvm_bindings::KVM_INTERNAL_ERROR_EMULATION
}

/// Why the run loop stopped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stop {
    /// The guest wrote the exit port.
    Exit(GuestExit),
    /// The vCPU cannot continue (triple fault, failed entry, ...); the text says
    /// what happened and where.
    Crash(String),
    /// The watchdog fired.
    Timeout,
    /// This signal (SIGINT, SIGTERM, SIGHUP) stopped the run.
    Signal(i32),
    /// The debugger killed the VM (gdb's `kill`).
    Killed,
}

/// A debug event that pauses [`Machine::run_until`] (only when
/// [`Machine::debug`] is set).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum DebugEvent {
    /// `KVM_EXIT_DEBUG`: a KVM single step or hardware breakpoint.
    Kvm(kvm_debug_exit_arch),
    /// KVM could not emulate the instruction at rip, which is unchanged (in
    /// the native mode on PVM hosts, the kernel's `int3`).
    EmulationFailure,
    /// The kernel reported #BP or #DB through the debugger port
    /// (`abi::debug`); the vCPU waits in the `in`, whose answer is
    /// `abi::debug::NOT_MINE` unless [`set_pending_in`] changes it.
    Kernel {
        /// The exception: `abi::debug::VECTOR_DEBUG` or `VECTOR_BREAKPOINT`.
        vector: u64,
        /// The kernel virtual address of the saved trap frame.
        frame: u64,
    },
    /// The kernel's #BP and #DB handlers now report to the debugger.
    Ready,
    /// `KVM_RUN` was interrupted (a kick).
    Kicked,
}

/// Why [`Machine::run_until`] returned.
#[derive(Clone, Debug, PartialEq)]
pub enum Pause {
    /// The run is over.
    Stop(Stop),
    /// A debug event; the vCPU may run on.
    Debug(DebugEvent),
}

/// Sets the value the guest's pending `in` (the exit just returned by
/// `KVM_RUN`) reads when the vCPU runs again. Does nothing unless that exit
/// was a 32-bit port input.
pub fn set_pending_in(vcpu: &mut VcpuFd, value: u32) {
    let run = vcpu.get_kvm_run();
    if run.exit_reason != kvm_bindings::KVM_EXIT_IO {
        return;
    }
    // SAFETY: after KVM_EXIT_IO, KVM fills the `io` member of the exit union.
    let io = unsafe { run.__bindgen_anon_1.io };
    if io.direction != kvm_bindings::KVM_EXIT_IO_IN as u8 || io.size != 4 || io.count != 1 {
        return;
    }
    let base: *mut u8 = (run as *mut kvm_bindings::kvm_run).cast();
    // SAFETY: KVM places the data of an I/O exit at `data_offset` bytes into
    // the vCPU's kvm_run mapping (a whole page or more), here 4 bytes; the
    // mapping lives as long as `vcpu`, which we borrow mutably.
    unsafe {
        base.add(io.data_offset as usize)
            .cast::<[u8; 4]>()
            .write_unaligned(value.to_le_bytes())
    };
}

/// What the run loop serves.
pub struct Machine<'a> {
    /// Guest RAM.
    pub mem: &'a GuestMem,
    /// The block devices, whose registers MMIO exits reach.
    pub disks: &'a [Disk],
    /// The console device (program output and input).
    pub console: Console,
    /// The serial port (the kernel's early boot and panic output).
    pub serial: Serial,
    /// Where console output goes (stdout, or a capture in tests).
    pub out: Box<dyn Write + Send>,
    /// The kernel's symbols, read on first use (backtraces, crash reports).
    pub symbols: &'a LazySymbols,
    /// The run's counters, which every exit updates.
    pub stats: &'a mut Stats,
    /// When the run loop started (set by [`Machine::run`]).
    pub started: Option<Instant>,
    /// The `--flamegraph` sampler, served on interrupted exits.
    pub sampler: Option<&'a mut Sampler>,
    /// A debugger is attached: [`Machine::run_until`] pauses on debug events.
    pub debug: bool,
}

/// What to do after an exit, decided while the exit borrows the vCPU.
enum Next {
    Continue,
    /// `KVM_RUN` was interrupted (a signal or an immediate exit).
    Interrupted,
    Stop(Stop),
    Crash(&'static str),
    InternalError,
    Debug(DebugEvent),
    /// The kernel's debugger-port `in`: the event needs the registers.
    DebugPort,
}

impl<'a> Machine<'a> {
    /// Runs the vCPU until the guest stops or `stop` is asked to stop it
    /// (the watchdog, a signal). Fails if `KVM_RUN` fails.
    pub fn run(&mut self, vcpu: &mut VcpuFd, stop: &StopControl) -> Result<Stop> {
        let started = Instant::now();
        self.started = Some(started);
        let result = self.run_inner(vcpu, stop);
        self.stats.run_time += started.elapsed();
        self.serial.flush(self.out.as_mut());
        let _ = self.out.flush();
        result
    }

    fn run_inner(&mut self, vcpu: &mut VcpuFd, stop: &StopControl) -> Result<Stop> {
        loop {
            if let Pause::Stop(stopped) = self.run_until(vcpu, stop)? {
                return Ok(stopped);
            }
        }
    }

    /// Runs the vCPU until the guest stops, `stop` is asked to stop it (the
    /// watchdog, a signal) or, when [`Machine::debug`] is set, a debug event
    /// happens. Fails only if `KVM_RUN` itself fails (or the kick signal
    /// cannot be installed).
    pub fn run_until(&mut self, vcpu: &mut VcpuFd, stop: &StopControl) -> Result<Pause> {
        let _running = stop.enter()?;
        loop {
            match stop.reason() {
                None => {}
                Some(StopReason::Timeout) => return Ok(Pause::Stop(Stop::Timeout)),
                Some(StopReason::Signal(sig)) => return Ok(Pause::Stop(Stop::Signal(sig))),
            }
            let entered = Instant::now();
            let exit = vcpu.run();
            let returned = Instant::now();
            self.stats.guest_time += returned - entered;
            let next = match exit {
                Ok(VcpuExit::IoOut(port, data)) => self.io_out(port, data),
                Ok(VcpuExit::IoIn(DEBUG_PORT, data)) => {
                    self.stats.count(ExitKind::OtherPortIn);
                    data.fill(0);
                    if self.debug {
                        Next::DebugPort
                    } else {
                        Next::Continue
                    }
                }
                Ok(VcpuExit::IoIn(port, data)) => {
                    self.io_in(port, data);
                    Next::Continue
                }
                Ok(VcpuExit::MmioRead(addr, data)) => {
                    self.mmio_read(addr, data);
                    Next::Continue
                }
                Ok(VcpuExit::MmioWrite(addr, data)) => {
                    self.mmio_write(addr, data);
                    Next::Continue
                }
                Ok(VcpuExit::Hlt) => {
                    self.stats.count(ExitKind::Hlt);
                    Next::Continue
                }
                Ok(VcpuExit::Shutdown) => Next::Crash("triple fault (KVM_EXIT_SHUTDOWN)"),
                Ok(VcpuExit::FailEntry(..)) => {
                    Next::Crash("KVM could not enter the guest (KVM_EXIT_FAIL_ENTRY)")
                }
                Ok(VcpuExit::InternalError) => Next::InternalError,
                Ok(VcpuExit::Debug(arch)) if self.debug => Next::Debug(DebugEvent::Kvm(arch)),
                Ok(VcpuExit::SystemEvent(..)) => {
                    Next::Crash("guest system event (reset or shutdown)")
                }
                Ok(VcpuExit::Intr) => {
                    self.stats.count(ExitKind::Interrupted);
                    Next::Interrupted
                }
                Ok(_) => {
                    self.stats.count(ExitKind::Other);
                    Next::Crash("unexpected VM exit")
                }
                Err(e) if e.errno() == libc::EINTR || e.errno() == libc::EAGAIN => {
                    self.stats.count(ExitKind::Interrupted);
                    Next::Interrupted
                }
                Err(e) => bail!("KVM_RUN failed: {e}"),
            };
            if let (Next::Interrupted, Some(sampler)) = (&next, self.sampler.as_deref_mut()) {
                sampler.on_interrupt(vcpu, self.mem);
            }
            self.stats.charge_exit(returned.elapsed());
            match next {
                Next::Continue => {}
                Next::Interrupted if self.debug => return Ok(Pause::Debug(DebugEvent::Kicked)),
                Next::Interrupted => {}
                Next::Stop(stop) => return Ok(Pause::Stop(stop)),
                Next::Crash(what) => {
                    return Ok(Pause::Stop(Stop::Crash(self.crash_report(vcpu, what))));
                }
                Next::InternalError if self.debug && emulation_failed(vcpu) => {
                    return Ok(Pause::Debug(DebugEvent::EmulationFailure));
                }
                Next::InternalError => return Ok(Pause::Stop(self.internal_error_stop(vcpu))),
                Next::Debug(event) => return Ok(Pause::Debug(event)),
                Next::DebugPort => {
                    let regs = vcpu.get_regs()?;
                    return Ok(Pause::Debug(DebugEvent::Kernel {
                        vector: regs.rsi,
                        frame: regs.rdi,
                    }));
                }
            }
        }
    }

    /// The crash a `KVM_EXIT_INTERNAL_ERROR` (just returned) amounts to.
    pub fn internal_error_stop(&self, vcpu: &mut VcpuFd) -> Stop {
        let what = internal_error(vcpu);
        Stop::Crash(self.crash_report(vcpu, &what))
    }

    fn io_out(&mut self, port: u16, data: &[u8]) -> Next {
        let word = <[u8; 4]>::try_from(data).ok().map(u32::from_le_bytes);
        match (port, word) {
            (DEBUG_PORT, Some(abi::debug::READY)) if self.debug => {
                self.stats.count(ExitKind::OtherPortOut);
                Next::Debug(DebugEvent::Ready)
            }
            (DEBUG_PORT, _) => {
                self.stats.count(ExitKind::OtherPortOut);
                Next::Continue
            }
            (EXIT_PORT, Some(v)) => {
                self.stats.count(ExitKind::ExitPort);
                Next::Stop(Stop::Exit(GuestExit::decode(v)))
            }
            (CONSOLE_PORT, Some(addr)) => {
                self.stats.count(ExitKind::ConsoleOut);
                self.serial.flush(self.out.as_mut());
                if self
                    .console
                    .write(self.mem, u64::from(addr), self.out.as_mut())
                    .is_err()
                {
                    self.stats.bad_descriptors += 1;
                }
                Next::Continue
            }
            (CONSOLE_IN_PORT, Some(addr)) => {
                self.stats.count(ExitKind::ConsoleIn);
                if self.console.read(self.mem, u64::from(addr)).is_err() {
                    self.stats.bad_descriptors += 1;
                }
                Next::Continue
            }
            (MARKER_PORT, Some(value)) => {
                self.stats.count(ExitKind::MarkerPort);
                let at = self.started.map(|t| t.elapsed()).unwrap_or_default();
                self.stats.markers.push((value, at));
                Next::Continue
            }
            (PANIC_PORT, Some(addr)) => {
                self.stats.count(ExitKind::PanicPort);
                self.serial.flush(self.out.as_mut());
                let _ = self.out.flush();
                match panic::read_report(self.mem, u64::from(addr)) {
                    Some(report) => {
                        crate::diag!("{}", panic::format_report(&report, self.symbols.get()))
                    }
                    None => self.stats.bad_descriptors += 1,
                }
                Next::Continue
            }
            (p, _) if (SERIAL_PORT..SERIAL_PORT + serial::PORTS).contains(&p) => {
                self.stats.count(ExitKind::Serial);
                if let Some(&b) = data.first() {
                    self.serial.write(p - SERIAL_PORT, b, self.out.as_mut());
                }
                Next::Continue
            }
            _ => {
                self.stats.count(ExitKind::OtherPortOut);
                if port != 0x80 {
                    self.stats.unknown_port(port);
                }
                Next::Continue
            }
        }
    }

    fn io_in(&mut self, port: u16, data: &mut [u8]) {
        match port {
            p if (SERIAL_PORT..SERIAL_PORT + serial::PORTS).contains(&p) => {
                self.stats.count(ExitKind::Serial);
                data.fill(0);
                if let Some(b) = data.first_mut() {
                    *b = self.serial.read(p - SERIAL_PORT);
                }
            }
            _ => {
                self.stats.count(ExitKind::OtherPortIn);
                self.stats.unknown_port(port);
                data.fill(0xff);
            }
        }
    }

    /// The disk whose register window holds `addr`, its index and the offset in it.
    fn disk_at(&self, addr: u64) -> Option<(&'a Disk, u64)> {
        let index = usize::try_from(addr.checked_sub(VIRTIO_MMIO_BASE)? / VIRTIO_MMIO_SIZE).ok()?;
        let disk = self.disks.get(index)?;
        Some((disk, addr - disk.mmio_base))
    }

    fn mmio_read(&mut self, addr: u64, data: &mut [u8]) {
        match self.disk_at(addr) {
            Some((disk, offset)) => {
                disk.device
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .transport
                    .read(offset, data);
                self.stats.count(ExitKind::VirtioMmioRead);
            }
            None => {
                data.fill(0xff);
                self.stats.count(ExitKind::OtherMmio);
                self.stats.unknown_mmio(addr);
            }
        }
    }

    fn mmio_write(&mut self, addr: u64, data: &[u8]) {
        match self.disk_at(addr) {
            Some((disk, offset)) => {
                let effect = disk
                    .device
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .transport
                    .write(offset, data);
                match effect {
                    WriteEffect::Notify => disk.serve_now(self.mem),
                    WriteEffect::Activated => disk.kick(),
                    _ => {}
                }
                self.stats.count(ExitKind::VirtioMmioWrite);
            }
            None => {
                self.stats.count(ExitKind::OtherMmio);
                self.stats.unknown_mmio(addr);
            }
        }
    }

    /// `what` plus the vCPU registers, for a guest that cannot go on.
    fn crash_report(&self, vcpu: &VcpuFd, what: &str) -> String {
        let mut s = format!("faultline: {what}\n");
        match (vcpu.get_regs(), vcpu.get_sregs()) {
            (Ok(r), Ok(sr)) => {
                s += &format!("  rip {}\n", self.symbols.get().describe(r.rip));
                s += &format!(
                    "  rsp {:#x} rbp {:#x} rflags {:#x} cs {:#x}\n",
                    r.rsp, r.rbp, r.rflags, sr.cs.selector
                );
                s += &format!(
                    "  cr0 {:#x} cr2 {:#x} cr3 {:#x} cr4 {:#x} efer {:#x}\n",
                    sr.cr0, sr.cr2, sr.cr3, sr.cr4, sr.efer
                );
                s += &format!(
                    "  rax {:#x} rbx {:#x} rcx {:#x} rdx {:#x} rsi {:#x} rdi {:#x}\n",
                    r.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi
                );
                if let Some(words) = kernel_virt_to_phys(r.rsp)
                    .and_then(|pa| crate::memory::read_u64s::<8>(self.mem, pa))
                {
                    let words: Vec<String> = words.iter().map(|w| format!("{w:#x}")).collect();
                    s += &format!("  stack at rsp: {}\n", words.join(" "));
                }
                let frames = frame_chain(self.mem, r.rbp);
                if !frames.is_empty() {
                    s += "  frame-pointer backtrace:\n";
                    for (i, ret) in frames.iter().enumerate() {
                        s += &format!("    #{i} {}\n", self.symbols.get().describe_return(*ret));
                    }
                }
            }
            (Err(e), _) | (_, Err(e)) => s += &format!("  (registers unavailable: {e})\n"),
        }
        s
    }
}
