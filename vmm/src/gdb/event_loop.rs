//! gdbstub's blocking event loop: while the guest runs, a watcher thread
//! polls gdb's connection and, when a byte arrives (Ctrl-C, or anything
//! else), kicks the vCPU thread out of `KVM_RUN` (the vCPU's
//! `immediate_exit` flag and a signal), so the byte is handed to gdbstub.

use std::os::fd::RawFd;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::{Context, Error, Result};
use gdbstub::common::Signal;
use gdbstub::conn::ConnectionExt;
use gdbstub::stub::run_blocking::{BlockingEventLoop, Event, WaitForStopReasonError};
use kvm_ioctls::VcpuFd;

use super::conn::Conn;
use super::run::{Ran, StopReason};
use super::target::Debuggee;
use super::wake::{Polled, Wake};

/// How long the watcher waits, at most, to be told the guest runs before it
/// looks at its flags again (it is told: this is only a backstop).
const IDLE_CHECK: Duration = Duration::from_millis(50);

/// How long the watcher waits, at most, for the vCPU thread to take a kick.
const KICK_TAKEN: Duration = Duration::from_millis(200);

/// The vCPU thread and its `immediate_exit` byte, to kick it out of `KVM_RUN`.
#[derive(Clone, Copy)]
struct Kick {
    thread: libc::pthread_t,
    signal: libc::c_int,
    /// Address of the `immediate_exit` byte in the vCPU's kvm_run mapping.
    flag: usize,
}

/// Shared between the vCPU thread and the watcher.
struct Shared {
    /// The guest is running (set by the vCPU thread around `KVM_RUN`).
    running: Mutex<bool>,
    changed: Condvar,
    /// The session is over.
    done: AtomicBool,
    /// Ends the watcher's wait on the connection when the session is over.
    wake: Wake,
}

/// The connection watcher.
pub struct Watcher {
    shared: Arc<Shared>,
    flag: usize,
    thread: Option<JoinHandle<()>>,
}

impl Watcher {
    /// Starts watching the connection `fd` for the calling thread, which
    /// runs `vcpu`. Fails if the thread or its eventfd cannot be made.
    pub fn start(fd: RawFd, vcpu: &mut VcpuFd) -> Result<Watcher> {
        let signal = crate::stop::kick_signal()?;
        let flag = (&raw mut vcpu.get_kvm_run().immediate_exit) as usize;
        // SAFETY: pthread_self has no preconditions.
        let thread = unsafe { libc::pthread_self() };
        let kick = Kick {
            thread,
            signal,
            flag,
        };
        let shared = Arc::new(Shared {
            running: Mutex::new(false),
            changed: Condvar::new(),
            done: AtomicBool::new(false),
            wake: Wake::new()?,
        });
        let thread = {
            let shared = shared.clone();
            std::thread::Builder::new()
                .name("gdb-watcher".into())
                .spawn(move || watch(fd, kick, &shared))
                .context("starting the gdb connection watcher")?
        };
        Ok(Watcher {
            shared,
            flag,
            thread: Some(thread),
        })
    }

    /// Tells the watcher whether the guest runs (it kicks only then).
    pub fn set_running(&self, running: bool) {
        *self
            .shared
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = running;
        self.shared.changed.notify_all();
    }

    /// Clears the vCPU's `immediate_exit` after a kick.
    pub fn clear_kick(&self) {
        // SAFETY: `flag` is the immediate_exit byte of the vCPU's kvm_run
        // mapping, alive as long as the vCPU, which outlives the session.
        unsafe { (*(self.flag as *const AtomicU8)).store(0, Ordering::SeqCst) };
    }

    /// Stops the watcher thread (before the connection or the vCPU goes).
    pub fn stop(&mut self) {
        self.shared.done.store(true, Ordering::SeqCst);
        self.shared.changed.notify_all();
        self.shared.wake.wake();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        self.clear_kick();
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.stop();
    }
}

fn watch(fd: RawFd, kick: Kick, shared: &Shared) {
    while !shared.done.load(Ordering::SeqCst) {
        {
            let running = shared
                .running
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if !*running {
                // Wait to be told the guest runs (or the session ends).
                let _ = shared.changed.wait_timeout(running, IDLE_CHECK);
                continue;
            }
        }
        // The descriptor stays open until the session ends, which stops
        // this thread first (and wakes it).
        if shared.wake.poll(fd, -1) != Polled::Ready {
            continue;
        }
        let running = shared
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if !*running {
            continue;
        }
        // SAFETY: as in `clear_kick`; the vCPU thread joins this thread
        // before the vCPU goes away.
        unsafe { (*(kick.flag as *const AtomicU8)).store(1, Ordering::SeqCst) };
        // SAFETY: `kick.thread` is the vCPU thread, alive until it joins us.
        unsafe { libc::pthread_kill(kick.thread, kick.signal) };
        // Until the vCPU thread has taken the byte, do not kick again.
        let _ = shared
            .changed
            .wait_timeout_while(running, KICK_TAKEN, |r| *r);
    }
}

/// gdbstub's event loop for the debugged VM.
pub struct EventLoop<'m, 'a>(std::marker::PhantomData<Debuggee<'m, 'a>>);

impl<'m, 'a> BlockingEventLoop for EventLoop<'m, 'a> {
    type Target = Debuggee<'m, 'a>;
    type Connection = Conn;
    type StopReason = StopReason;

    fn wait_for_stop_reason(
        target: &mut Self::Target,
        conn: &mut Self::Connection,
    ) -> Result<Event<StopReason>, WaitForStopReasonError<Error, std::io::Error>> {
        // The `+` of the request that resumed the guest (gdbstub does not
        // flush it), and input that came with the request: the watcher sees
        // only what is still in the socket.
        conn.send().map_err(WaitForStopReasonError::Connection)?;
        if conn.has_input() {
            let byte = conn.read().map_err(WaitForStopReasonError::Connection)?;
            return Ok(Event::IncomingData(byte));
        }
        if !target.prepared {
            target.prepare().map_err(WaitForStopReasonError::Target)?;
            target.prepared = true;
        }
        loop {
            if let Some(w) = &target.watcher {
                w.set_running(true);
            }
            let ran = target.run();
            if let Some(w) = &target.watcher {
                w.set_running(false);
            }
            match ran.map_err(WaitForStopReasonError::Target)? {
                Ran::Stopped(reason) => {
                    target.prepared = false;
                    return Ok(Event::TargetStopped(reason));
                }
                Ran::Kicked => {
                    if let Some(w) = &target.watcher {
                        w.clear_kick();
                    }
                    if conn
                        .peek()
                        .map_err(WaitForStopReasonError::Connection)?
                        .is_some()
                    {
                        let byte = conn.read().map_err(WaitForStopReasonError::Connection)?;
                        return Ok(Event::IncomingData(byte));
                    }
                }
            }
        }
    }

    fn on_interrupt(_target: &mut Self::Target) -> Result<Option<StopReason>, Error> {
        Ok(Some(StopReason::Signal(Signal::SIGINT)))
    }
}
