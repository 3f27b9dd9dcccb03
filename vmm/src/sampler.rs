//! The `--flamegraph` sampler: a ticker thread asks for a sample at a fixed
//! rate by setting the vCPU's `immediate_exit` flag and signalling the vCPU
//! thread, so `KVM_RUN` returns `EINTR` at once (or, if the thread is serving
//! an exit, the next `KVM_RUN` does). The vCPU thread then reads the guest's
//! registers, walks its frame-pointer stack through the guest page tables
//! ([`crate::stack_walk`]) and notes the running process from the profile
//! buffer; symbols are looked up after the run ([`crate::flamegraph`]).

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use kvm_ioctls::VcpuFd;

use crate::guest_stack::PageWalker;
use crate::memory::GuestMem;
use crate::profile::{Placement, read_current};
use crate::stack_walk::{KernelText, Stack, walk};
use crate::trap_context::Regs;

/// One sample of the guest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sample {
    /// The running process (pid, executable name) as the kernel published it,
    /// if known.
    pub process: Option<(u32, String)>,
    /// Whether the vCPU was in user mode.
    pub user_mode: bool,
    /// The call stack (see [`walk`]).
    pub stack: Stack,
}

/// What the vCPU thread needs to take samples.
pub struct Sampler {
    hz: u32,
    request: Arc<AtomicBool>,
    ticker: Option<Ticker>,
    /// The profile buffer, for the current process.
    placement: Option<Placement>,
    /// The kernel's trap path, to follow the stack across traps.
    kernel: KernelText,
    /// Whether the vCPU is in PVM guest mode (where CR3 names a pair of
    /// tables: [`crate::guest_stack::root`]).
    pvm_mode: bool,
    /// `immediate_exit` in the vCPU's `kvm_run` page.
    immediate_exit: Option<*const AtomicU8>,
    /// The samples taken so far, oldest first.
    pub samples: Vec<Sample>,
    /// Samples whose registers could not be read.
    pub failed: u64,
    /// Samples the ticker asked for.
    pub requested: u64,
    /// Wall time of the vCPU thread spent taking samples.
    pub sampling_time: Duration,
}

impl Sampler {
    /// A sampler at `hz` samples per second.
    pub fn new(
        hz: u32,
        placement: Option<Placement>,
        kernel: KernelText,
        pvm_mode: bool,
    ) -> Sampler {
        Sampler {
            hz: hz.max(1),
            request: Arc::new(AtomicBool::new(false)),
            ticker: None,
            placement,
            kernel,
            pvm_mode,
            immediate_exit: None,
            samples: Vec::new(),
            failed: 0,
            requested: 0,
            sampling_time: Duration::ZERO,
        }
    }

    /// Starts the ticker aimed at the calling thread, which must be the one
    /// that runs `vcpu`.
    pub fn start(&mut self, vcpu: &mut VcpuFd) -> Result<()> {
        let sig = crate::stop::kick_signal()?;
        let flag: *const AtomicU8 = (&raw mut vcpu.get_kvm_run().immediate_exit)
            .cast_const()
            .cast();
        self.immediate_exit = Some(flag);
        // SAFETY: pthread_self has no preconditions.
        let target = unsafe { libc::pthread_self() };
        let kick = Kick {
            target,
            sig,
            flag: flag as usize,
        };
        let period = Duration::from_secs(1) / self.hz;
        self.ticker = Some(Ticker::start(period, kick, self.request.clone())?);
        Ok(())
    }

    /// Stops the ticker (before the vCPU goes away).
    pub fn stop(&mut self) {
        if let Some(t) = self.ticker.take() {
            self.requested += t.stop();
        }
    }

    /// Called by the run loop after `KVM_RUN` returned `EINTR`: clears the
    /// immediate exit and takes a sample if one was asked for.
    pub fn on_interrupt(&mut self, vcpu: &VcpuFd, mem: &GuestMem) {
        if let Some(flag) = self.immediate_exit {
            // SAFETY: `flag` is the immediate_exit byte of the vCPU's kvm_run
            // mapping, which lives as long as `vcpu`; the byte is shared with
            // the ticker thread and KVM, hence the atomic access.
            unsafe { (*flag).store(0, Ordering::SeqCst) };
        }
        if !self.request.swap(false, Ordering::SeqCst) {
            return;
        }
        let started = Instant::now();
        match self.capture(vcpu, mem) {
            Some(s) => self.samples.push(s),
            None => self.failed += 1,
        }
        self.sampling_time += started.elapsed();
    }

    fn capture(&self, vcpu: &VcpuFd, mem: &GuestMem) -> Option<Sample> {
        let regs = vcpu.get_regs().ok()?;
        let sregs = vcpu.get_sregs().ok()?;
        let mut pages = PageWalker::new(mem, crate::guest_stack::root(sregs.cr3, self.pvm_mode));
        let at = Regs {
            rip: regs.rip,
            rsp: regs.rsp,
            rbp: regs.rbp,
            rcx: regs.rcx,
        };
        Some(Sample {
            process: self.placement.and_then(|p| read_current(mem, p)),
            user_mode: sregs.cs.selector & 3 == 3,
            stack: walk(&mut pages, at, &self.kernel),
        })
    }
}

impl Drop for Sampler {
    fn drop(&mut self) {
        self.stop();
    }
}

/// How the ticker reaches the vCPU thread.
#[derive(Clone, Copy)]
struct Kick {
    target: libc::pthread_t,
    sig: libc::c_int,
    /// Address of the `immediate_exit` byte.
    flag: usize,
}

/// The thread that asks for samples.
struct Ticker {
    done: Arc<(Mutex<bool>, Condvar)>,
    thread: JoinHandle<u64>,
}

impl Ticker {
    fn start(period: Duration, kick: Kick, request: Arc<AtomicBool>) -> Result<Ticker> {
        let done = Arc::new((Mutex::new(false), Condvar::new()));
        let thread = {
            let done = done.clone();
            std::thread::Builder::new()
                .name("sampler".into())
                .spawn(move || tick(period, kick, &request, &done))
                .context("starting the sampler thread")?
        };
        Ok(Ticker { done, thread })
    }

    /// Stops the thread; returns how many samples it asked for.
    fn stop(self) -> u64 {
        let (lock, cv) = &*self.done;
        *lock.lock().unwrap_or_else(PoisonError::into_inner) = true;
        cv.notify_all();
        self.thread.join().unwrap_or(0)
    }
}

fn tick(period: Duration, kick: Kick, request: &AtomicBool, done: &(Mutex<bool>, Condvar)) -> u64 {
    let (lock, cv) = done;
    let mut next = Instant::now() + period;
    let mut asked = 0;
    let mut finished = lock.lock().unwrap_or_else(PoisonError::into_inner);
    loop {
        let now = Instant::now();
        if *finished {
            return asked;
        }
        if now < next {
            finished = cv
                .wait_timeout(finished, next - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
            continue;
        }
        request.store(true, Ordering::SeqCst);
        // SAFETY: `kick.flag` is the immediate_exit byte of the vCPU's kvm_run
        // mapping; the vCPU (and the mapping) outlives this thread because
        // the vCPU thread joins it (Sampler::stop) before dropping the vCPU.
        unsafe { (*(kick.flag as *const AtomicU8)).store(1, Ordering::SeqCst) };
        // SAFETY: `kick.target` is the vCPU thread, alive until it joins us.
        unsafe { libc::pthread_kill(kick.target, kick.sig) };
        asked += 1;
        // A tick that is late is not made up for.
        next = (next + period).max(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ticker_asks_at_its_rate_and_interrupts_the_thread() {
        let sig = crate::stop::kick_signal().unwrap();
        let flag = Box::new(AtomicU8::new(0));
        let request = Arc::new(AtomicBool::new(false));
        // SAFETY: pthread_self has no preconditions.
        let target = unsafe { libc::pthread_self() };
        let kick = Kick {
            target,
            sig,
            flag: &*flag as *const AtomicU8 as usize,
        };
        let ticker = Ticker::start(Duration::from_millis(5), kick, request.clone()).unwrap();
        // A blocking read is interrupted like KVM_RUN.
        let mut fds = [0; 2];
        // SAFETY: `fds` has room for the two descriptors pipe() writes.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        let mut b = 0u8;
        // SAFETY: reading one byte into a valid one-byte buffer.
        let r = unsafe { libc::read(fds[0], (&raw mut b).cast(), 1) };
        assert_eq!(r, -1);
        assert!(request.load(Ordering::SeqCst));
        assert_eq!(flag.load(Ordering::SeqCst), 1);
        std::thread::sleep(Duration::from_millis(100));
        let asked = ticker.stop();
        assert!(
            (3..=40).contains(&asked),
            "{asked} requests in ~100 ms at 200 Hz"
        );
        // SAFETY: closing the descriptors this test opened.
        unsafe {
            libc::close(fds[0]);
            libc::close(fds[1]);
        }
    }
}
