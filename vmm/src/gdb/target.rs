//! The debugged VM as a `gdbstub` target: registers, memory, breakpoints and
//! the requests to resume or step (carried out by [`super::run`]).

use anyhow::{Context, Error};
use gdbstub::common::Signal;
use gdbstub::target::ext::base::BaseOps;
use gdbstub::target::ext::base::singlethread::{
    SingleThreadBase, SingleThreadResume, SingleThreadResumeOps, SingleThreadSingleStep,
    SingleThreadSingleStepOps,
};
use gdbstub::target::ext::breakpoints::{
    Breakpoints, BreakpointsOps, HwBreakpoint, HwBreakpointOps, HwWatchpoint, HwWatchpointOps,
    SwBreakpoint, SwBreakpointOps, WatchKind,
};
use gdbstub::target::{Target, TargetError, TargetResult};
use kvm_ioctls::VcpuFd;

use super::arch::{FaultlineX86, Regs};
use super::breakpoints::{HwKind, HwSlot, HwSlots, SwTable};
use super::event_loop::Watcher;
use super::memory;
use super::regs::{self, FRAME_WORDS, RFLAGS_TF};
use super::run::Stepping;
use crate::guest_stack::is_kernel_address;
use crate::stop::StopControl;
use crate::vcpu::{Machine, Stop};

/// Where the registers of the stopped guest are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum At {
    /// In the vCPU.
    Vcpu,
    /// In the trap frame at this kernel address: the kernel handed a #BP or
    /// #DB to the debugger and waits in the debugger port's `in`.
    Frame(u64),
}

/// What gdb asked for last.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Request {
    Continue,
    Step,
}

/// The VM under the debugger.
pub struct Debuggee<'m, 'a> {
    pub machine: &'m mut Machine<'a>,
    pub vcpu: &'m mut VcpuFd,
    pub stop: &'m StopControl,
    /// The kernel runs in PVM guest mode.
    pub pvm_mode: bool,
    /// The host is a PVM host (KVM's own debugging does not reach the guest).
    pub pvm_host: bool,
    pub at: At,
    /// The kernel's #BP/#DB handlers report to the debugger port.
    pub ready: bool,
    pub sw: SwTable,
    pub hw: HwSlots,
    pub request: Request,
    /// How the current step is carried out (none while continuing).
    pub stepping: Option<Stepping>,
    /// Whether the guest was set up for the current request.
    pub prepared: bool,
    /// How the guest ended, once it has.
    pub end: Option<Stop>,
    /// Watches gdb's connection while the guest runs.
    pub watcher: Option<Watcher>,
}

impl<'m, 'a> Debuggee<'m, 'a> {
    pub fn new(
        machine: &'m mut Machine<'a>,
        vcpu: &'m mut VcpuFd,
        stop: &'m StopControl,
        pvm_mode: bool,
        pvm_host: bool,
    ) -> Self {
        Debuggee {
            machine,
            vcpu,
            stop,
            pvm_mode,
            pvm_host,
            at: At::Vcpu,
            ready: false,
            sw: SwTable::default(),
            hw: HwSlots::default(),
            request: Request::Continue,
            stepping: None,
            prepared: false,
            end: None,
            watcher: None,
        }
    }

    /// The top-level page table of the current address space.
    pub fn root(&self) -> Result<u64, Error> {
        let sregs = self.vcpu.get_sregs().context("KVM_GET_SREGS")?;
        Ok(memory::root(sregs.cr3, self.pvm_mode))
    }

    /// The trap frame at `va`.
    pub fn frame(&self, va: u64) -> Result<[u64; FRAME_WORDS], Error> {
        memory::read_u64s::<FRAME_WORDS>(self.machine.mem, self.root()?, va)
            .with_context(|| format!("the kernel's trap frame at {va:#x} is not readable"))
    }

    /// Writes the trap frame at `va`.
    pub fn set_frame(&self, va: u64, words: &[u64; FRAME_WORDS]) -> Result<(), Error> {
        memory::write_u64s(self.machine.mem, self.root()?, va, words)
            .map_err(|()| anyhow::anyhow!("the kernel's trap frame at {va:#x} is not writable"))
    }

    /// Inserts a software breakpoint at `va` in the current address space.
    pub fn insert_sw(&mut self, va: u64) -> Result<(), ()> {
        let root = self.root().map_err(|_| ())?;
        let pa = memory::translate(self.machine.mem, root, va).ok_or(())?;
        self.sw.insert(self.machine.mem, va, pa)
    }

    /// Sets or clears the stopped code's trap flag (the single step that the
    /// kernel's #DB handler reports).
    pub fn trap_flag(&mut self, on: bool) -> Result<(), Error> {
        match self.at {
            At::Frame(va) => {
                let mut words = self.frame(va)?;
                let rf = &mut words[regs::FRAME_RFLAGS];
                *rf = if on {
                    *rf | RFLAGS_TF
                } else {
                    *rf & !RFLAGS_TF
                };
                self.set_frame(va, &words)
            }
            At::Vcpu => {
                let mut r = self.vcpu.get_regs().context("KVM_GET_REGS")?;
                r.rflags = if on {
                    r.rflags | RFLAGS_TF
                } else {
                    r.rflags & !RFLAGS_TF
                };
                self.vcpu.set_regs(&r).context("KVM_SET_REGS")
            }
        }
    }

    fn read_regs(&self) -> Result<Regs, Error> {
        let sregs = self.vcpu.get_sregs().context("KVM_GET_SREGS")?;
        let fpu = self.vcpu.get_fpu().context("KVM_GET_FPU")?;
        let mut regs = match self.at {
            At::Vcpu => {
                let r = self.vcpu.get_regs().context("KVM_GET_REGS")?;
                regs::from_vcpu(&r, &sregs, &fpu)
            }
            At::Frame(va) => regs::from_frame(&self.frame(va)?, &sregs, &fpu),
        };
        // The trap flag is the debugger's own business.
        regs.core.eflags &= !(RFLAGS_TF as u32);
        Ok(regs)
    }
}

impl Target for Debuggee<'_, '_> {
    type Arch = FaultlineX86;
    type Error = Error;

    fn base_ops(&mut self) -> BaseOps<'_, Self::Arch, Self::Error> {
        BaseOps::SingleThread(self)
    }

    fn support_breakpoints(&mut self) -> Option<BreakpointsOps<'_, Self>> {
        Some(self)
    }

    /// Software breakpoints are ours (Z0), never gdb's own memory writes.
    fn guard_rail_implicit_sw_breakpoints(&self) -> bool {
        true
    }
}

impl SingleThreadBase for Debuggee<'_, '_> {
    fn read_registers(&mut self, regs: &mut Regs) -> TargetResult<(), Self> {
        *regs = self.read_regs().map_err(TargetError::Fatal)?;
        Ok(())
    }

    fn write_registers(&mut self, regs: &Regs) -> TargetResult<(), Self> {
        match self.at {
            At::Vcpu => {
                let mut r = self.vcpu.get_regs().map_err(|_| TargetError::NonFatal)?;
                let tf = r.rflags & RFLAGS_TF;
                regs::to_vcpu(regs, &mut r);
                r.rflags = (r.rflags & !RFLAGS_TF) | tf;
                self.vcpu.set_regs(&r).map_err(|_| TargetError::NonFatal)
            }
            At::Frame(va) => {
                let mut words = self.frame(va).map_err(TargetError::Fatal)?;
                let tf = words[regs::FRAME_RFLAGS] & RFLAGS_TF;
                regs::to_frame(regs, &mut words);
                words[regs::FRAME_RFLAGS] = (words[regs::FRAME_RFLAGS] & !RFLAGS_TF) | tf;
                self.set_frame(va, &words).map_err(TargetError::Fatal)
            }
        }
    }

    fn read_addrs(&mut self, start: u64, data: &mut [u8]) -> TargetResult<usize, Self> {
        let root = self.root().map_err(TargetError::Fatal)?;
        match memory::read(self.machine.mem, root, start, data) {
            0 if !data.is_empty() => Err(TargetError::Errno(14)),
            n => Ok(n),
        }
    }

    fn write_addrs(&mut self, start: u64, data: &[u8]) -> TargetResult<(), Self> {
        let root = self.root().map_err(TargetError::Fatal)?;
        memory::write(self.machine.mem, root, start, data).map_err(|()| TargetError::Errno(14))
    }

    fn support_resume(&mut self) -> Option<SingleThreadResumeOps<'_, Self>> {
        Some(self)
    }
}

impl SingleThreadResume for Debuggee<'_, '_> {
    fn resume(&mut self, _signal: Option<Signal>) -> Result<(), Self::Error> {
        self.request = Request::Continue;
        self.prepared = false;
        Ok(())
    }

    fn support_single_step(&mut self) -> Option<SingleThreadSingleStepOps<'_, Self>> {
        Some(self)
    }
}

impl SingleThreadSingleStep for Debuggee<'_, '_> {
    fn step(&mut self, _signal: Option<Signal>) -> Result<(), Self::Error> {
        self.request = Request::Step;
        self.prepared = false;
        Ok(())
    }
}

impl Breakpoints for Debuggee<'_, '_> {
    fn support_sw_breakpoint(&mut self) -> Option<SwBreakpointOps<'_, Self>> {
        Some(self)
    }

    fn support_hw_breakpoint(&mut self) -> Option<HwBreakpointOps<'_, Self>> {
        Some(self)
    }

    fn support_hw_watchpoint(&mut self) -> Option<HwWatchpointOps<'_, Self>> {
        Some(self)
    }
}

impl SwBreakpoint for Debuggee<'_, '_> {
    fn add_sw_breakpoint(&mut self, addr: u64, _kind: usize) -> TargetResult<bool, Self> {
        // In PVM guest mode an `int3` before the kernel's IDT is up would
        // triple-fault the guest: kernel breakpoints wait for it.
        if self.pvm_mode && !self.ready && is_kernel_address(addr) {
            self.sw.defer(addr);
            return Ok(true);
        }
        Ok(self.insert_sw(addr).is_ok())
    }

    fn remove_sw_breakpoint(&mut self, addr: u64, _kind: usize) -> TargetResult<bool, Self> {
        Ok(self.sw.remove(self.machine.mem, addr))
    }
}

impl HwBreakpoint for Debuggee<'_, '_> {
    /// Only in the native mode (KVM's debug registers); on PVM hosts only for
    /// kernel code, the only code KVM's emulator checks them for.
    fn add_hw_breakpoint(&mut self, addr: u64, _kind: usize) -> TargetResult<bool, Self> {
        if self.pvm_mode || (self.pvm_host && !is_kernel_address(addr)) {
            return Ok(false);
        }
        let slot = HwSlot {
            addr,
            kind: HwKind::Execute,
            len: 1,
        };
        Ok(self.hw.add(slot).is_ok())
    }

    fn remove_hw_breakpoint(&mut self, addr: u64, _kind: usize) -> TargetResult<bool, Self> {
        Ok(self.hw.remove(HwSlot {
            addr,
            kind: HwKind::Execute,
            len: 1,
        }))
    }
}

/// The debug-register kind of a gdb watchpoint (read-only ones cannot be had).
fn watch_kind(kind: WatchKind) -> Option<HwKind> {
    match kind {
        WatchKind::Write => Some(HwKind::Write),
        WatchKind::ReadWrite => Some(HwKind::ReadWrite),
        WatchKind::Read => None,
    }
}

impl HwWatchpoint for Debuggee<'_, '_> {
    /// Only in the native mode on hosts whose KVM checks data breakpoints (not
    /// PVM hosts: docs/DEBUGGING.md).
    fn add_hw_watchpoint(
        &mut self,
        addr: u64,
        len: u64,
        kind: WatchKind,
    ) -> TargetResult<bool, Self> {
        let Some(kind) = watch_kind(kind) else {
            return Ok(false);
        };
        if self.pvm_host || self.pvm_mode {
            return Ok(false);
        }
        Ok(self.hw.add(HwSlot { addr, kind, len }).is_ok())
    }

    fn remove_hw_watchpoint(
        &mut self,
        addr: u64,
        len: u64,
        kind: WatchKind,
    ) -> TargetResult<bool, Self> {
        let Some(kind) = watch_kind(kind) else {
            return Ok(false);
        };
        Ok(self.hw.remove(HwSlot { addr, kind, len }))
    }
}
