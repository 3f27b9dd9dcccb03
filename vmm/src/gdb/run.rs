//! Running the debugged guest: prepares the vCPU for gdb's last request
//! (continue or single step, with the breakpoints KVM must know about), runs
//! it, and turns what happens into a stop to report to gdb, or a kick (gdb
//! sent something while the guest ran).
//!
//! Which mechanism serves which request (docs/DEBUGGING.md has the probe):
//! - software breakpoints are `int3`s the kernel's #BP handler hands over
//!   (PVM guest mode, and user code in the native mode), or, in the native
//!   mode on PVM hosts, the emulation failure KVM reports at a kernel `int3`;
//! - a single step of code stopped in a trap frame, of user code, and of
//!   anything in PVM guest mode is the trap flag and the kernel's #DB handler;
//!   in the native mode, kernel code stopped in the vCPU steps with
//!   `KVM_GUESTDBG_SINGLESTEP`;
//! - hardware breakpoints and watchpoints are KVM's debug registers (native
//!   mode only).

use anyhow::{Context, Error};
use gdbstub::common::Signal;
use gdbstub::stub::SingleThreadStopReason;
use gdbstub::target::ext::breakpoints::WatchKind;
use kvm_bindings::{
    KVM_GUESTDBG_ENABLE, KVM_GUESTDBG_SINGLESTEP, KVM_GUESTDBG_USE_HW_BP, kvm_guest_debug,
    kvm_guest_debug_arch,
};

use super::breakpoints::HwKind;
use super::memory;
use super::regs::{self, RFLAGS_TF};
use super::target::{At, Debuggee, Request};
use crate::vcpu::{DebugEvent, Pause, Stop, set_pending_in};

/// A stop as gdb hears of it.
pub type StopReason = SingleThreadStopReason<u64>;

/// How the guest is being stepped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stepping {
    /// The trap flag is set; the kernel's #DB handler reports.
    TrapFlag,
    /// `KVM_GUESTDBG_SINGLESTEP`.
    Kvm,
    /// PVM guest mode before the kernel's debugger support is up: nothing can
    /// step yet, so the step ends when it comes up.
    UntilReady,
}

/// What one stretch of running produced.
pub enum Ran {
    Stopped(StopReason),
    /// `KVM_RUN` was interrupted: gdb may have sent something.
    Kicked,
}

impl Debuggee<'_, '_> {
    /// Sets the guest up for gdb's last request (once per resume).
    pub fn prepare(&mut self) -> Result<(), Error> {
        let step = self.request == Request::Step;
        self.stepping = None;
        match self.at {
            At::Frame(_) => {
                self.trap_flag(step)?;
                if step {
                    self.stepping = Some(Stepping::TrapFlag);
                }
            }
            At::Vcpu if step => {
                let user = self.vcpu.get_sregs().context("KVM_GET_SREGS")?.cs.selector & 3 == 3;
                self.stepping = Some(if !self.pvm_mode && !user {
                    Stepping::Kvm
                } else if self.ready {
                    self.trap_flag(true)?;
                    Stepping::TrapFlag
                } else {
                    Stepping::UntilReady
                });
            }
            At::Vcpu => {}
        }
        self.set_guest_debug()?;
        self.at = At::Vcpu;
        Ok(())
    }

    /// Loads KVM's debug state: the debug registers and the KVM single step
    /// (native mode only: in PVM guest mode KVM's single step leaks the trap
    /// flag into the guest and its debug registers do nothing).
    pub fn set_guest_debug(&mut self) -> Result<(), Error> {
        if self.pvm_mode {
            return Ok(());
        }
        let mut control = 0;
        if !self.hw.is_empty() {
            control |= KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_HW_BP;
        }
        if self.stepping == Some(Stepping::Kvm) {
            control |= KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP;
        }
        let debug = kvm_guest_debug {
            control,
            pad: 0,
            arch: kvm_guest_debug_arch {
                debugreg: self.hw.debugregs(),
            },
        };
        self.vcpu
            .set_guest_debug(&debug)
            .context("KVM_SET_GUEST_DEBUG")
    }

    /// Runs until a stop to report or a kick.
    pub fn run(&mut self) -> Result<Ran, Error> {
        loop {
            let pause = self.machine.run_until(self.vcpu, self.stop)?;
            let reason = match pause {
                Pause::Stop(stop) => Some(self.ended(stop)),
                Pause::Debug(DebugEvent::Kicked) => return Ok(Ran::Kicked),
                Pause::Debug(DebugEvent::Ready) => self.on_ready(),
                Pause::Debug(DebugEvent::Kvm(exit)) => self.on_kvm_debug(exit.exception, exit.dr6),
                Pause::Debug(DebugEvent::EmulationFailure) => Some(self.on_emulation_failure()?),
                Pause::Debug(DebugEvent::Kernel { vector, frame }) => {
                    self.on_kernel_event(vector, frame)?
                }
            };
            if let Some(reason) = reason {
                let kvm_step = self.stepping == Some(Stepping::Kvm);
                self.stepping = None;
                if kvm_step && self.end.is_none() {
                    self.set_guest_debug()?;
                }
                return Ok(Ran::Stopped(reason));
            }
        }
    }

    /// The guest ended: remember how, and tell gdb.
    fn ended(&mut self, stop: Stop) -> StopReason {
        let reason = match &stop {
            Stop::Exit(exit) => StopReason::Exited(exit.process_status()),
            Stop::Crash(_) => StopReason::Terminated(Signal::SIGSEGV),
            Stop::Timeout | Stop::Killed => StopReason::Terminated(Signal::SIGKILL),
            Stop::Signal(sig) => StopReason::Terminated(match *sig {
                libc::SIGINT => Signal::SIGINT,
                libc::SIGHUP => Signal::SIGHUP,
                _ => Signal::SIGTERM,
            }),
        };
        self.end = Some(stop);
        reason
    }

    fn on_ready(&mut self) -> Option<StopReason> {
        self.ready = true;
        for va in self.sw.take_pending() {
            if self.insert_sw(va).is_err() {
                crate::diagln!(
                    "faultline: gdb: cannot insert the breakpoint at {va:#x} (not mapped)"
                );
            }
        }
        (self.stepping == Some(Stepping::UntilReady)).then_some(StopReason::DoneStep)
    }

    fn on_kvm_debug(&mut self, exception: u32, dr6: u64) -> Option<StopReason> {
        if let Some(slot) = self.hw.triggered(dr6) {
            return Some(match slot.kind {
                HwKind::Execute => StopReason::HwBreak(()),
                HwKind::Write => StopReason::Watch {
                    tid: (),
                    kind: WatchKind::Write,
                    addr: slot.addr,
                },
                HwKind::ReadWrite => StopReason::Watch {
                    tid: (),
                    kind: WatchKind::ReadWrite,
                    addr: slot.addr,
                },
            });
        }
        match exception {
            1 if self.stepping == Some(Stepping::Kvm) => Some(StopReason::DoneStep),
            3 => Some(StopReason::SwBreak(())),
            _ => None,
        }
    }

    /// KVM could not emulate the instruction at rip: one of our `int3`s (a
    /// breakpoint, rip at it), or a real failure, which ends the run.
    fn on_emulation_failure(&mut self) -> Result<StopReason, Error> {
        let rip = self.vcpu.get_regs().context("KVM_GET_REGS")?.rip;
        let pa = memory::translate(self.machine.mem, self.root()?, rip);
        if self.sw.hit(rip, pa) {
            return Ok(StopReason::SwBreak(()));
        }
        let stop = self.machine.internal_error_stop(self.vcpu);
        Ok(self.ended(stop))
    }

    /// The kernel handed over a #BP or #DB: claim it if it is ours.
    fn on_kernel_event(&mut self, vector: u64, frame: u64) -> Result<Option<StopReason>, Error> {
        let mut words = self.frame(frame)?;
        let rflags = words[regs::FRAME_RFLAGS];
        let reason = match vector {
            abi::debug::VECTOR_BREAKPOINT => {
                let at = words[regs::FRAME_RIP].wrapping_sub(1);
                let pa = memory::translate(self.machine.mem, self.root()?, at);
                if self.sw.hit(at, pa) {
                    words[regs::FRAME_RIP] = at;
                    Some(StopReason::SwBreak(()))
                } else if pa.is_some_and(|pa| self.sw.repair(self.machine.mem, at, pa)) {
                    // A stale copy of a removed breakpoint: run the real
                    // instruction as if it had never been there.
                    words[regs::FRAME_RIP] = at;
                    self.set_frame(frame, &words)?;
                    set_pending_in(self.vcpu, abi::debug::HANDLED);
                    return Ok(None);
                } else {
                    return Ok(None);
                }
            }
            abi::debug::VECTOR_DEBUG if rflags & RFLAGS_TF != 0 => {
                if self.stepping == Some(Stepping::TrapFlag) {
                    Some(StopReason::DoneStep)
                } else {
                    // A trap left over from an earlier step (e.g. the flag
                    // carried through a system call): absorb it.
                    None
                }
            }
            _ => return Ok(None),
        };
        words[regs::FRAME_RFLAGS] = rflags & !RFLAGS_TF;
        self.set_frame(frame, &words)?;
        set_pending_in(self.vcpu, abi::debug::HANDLED);
        if reason.is_some() {
            self.at = At::Frame(frame);
        }
        Ok(reason)
    }

    /// The debugger goes away: remove every breakpoint and the trap flag, stop
    /// KVM's debugging, and let the guest run on.
    pub fn detach(&mut self) {
        self.sw.clear(self.machine.mem);
        self.hw = Default::default();
        self.stepping = None;
        // Best effort: a guest we cannot clean up still runs.
        let _ = self.trap_flag(false);
        if !self.pvm_mode {
            let _ = self.vcpu.set_guest_debug(&kvm_guest_debug::default());
        }
        self.at = At::Vcpu;
    }
}
