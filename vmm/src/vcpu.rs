//! The vCPU run loop: enters the guest with `KVM_RUN` and serves each exit
//! (port I/O devices, virtio-mmio registers) until the guest ends the run,
//! crashes, or the watchdog fires. Under a debugger ([`Machine::debug`]) it
//! also pauses on debug events ([`Machine::run_until`]).

mod crash;
mod device_exits;

use std::io::Write;
use std::time::Instant;

use abi::debug::DEBUG_PORT;
use anyhow::{Result, bail};
use kvm_bindings::kvm_debug_exit_arch;
use kvm_ioctls::{VcpuExit, VcpuFd};

use crate::devices::console::Console;
use crate::devices::exit::GuestExit;
use crate::devices::serial::Serial;
use crate::memory::GuestMem;
use crate::sampler::Sampler;
use crate::stats::{ExitKind, Stats};
use crate::stop::{StopControl, StopReason};
use crate::symbols::LazySymbols;
use crate::virtio::block::Disk;

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
                Next::InternalError if self.debug && crash::emulation_failed(vcpu) => {
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
        let what = crash::internal_error(vcpu);
        Stop::Crash(self.crash_report(vcpu, &what))
    }
}
