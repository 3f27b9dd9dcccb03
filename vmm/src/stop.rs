//! Stopping a running VM from another thread. The `--timeout` watchdog
//! ([`crate::watchdog`]) and the signal thread ([`crate::signals`]) record why
//! ([`StopReason`]; the first request wins) and kick the vCPU thread out of
//! `KVM_RUN` with a signal, repeating the kick until the run loop has let go
//! of the vCPU (a kick that lands just before `KVM_RUN` is entered would
//! otherwise be lost). The run loop polls [`StopControl::reason`] before each
//! `KVM_RUN`.

use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Condvar, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use anyhow::{Result, anyhow};
use vmm_sys_util::signal::{SIGRTMIN, register_signal_handler};

/// How often the kick repeats until the vCPU thread lets go.
const KICK_INTERVAL: Duration = Duration::from_millis(10);

/// `reason` value of a timeout (signals are positive).
const TIMEOUT: i32 = -1;

/// Why the VM was stopped from outside.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// `--timeout` expired.
    Timeout,
    /// The process received this signal (SIGINT, SIGTERM or SIGHUP).
    Signal(i32),
}

/// The kick signal's handler: it does nothing; its only effect is that the
/// interrupted `KVM_RUN` returns `EINTR`.
extern "C" fn on_kick(_: libc::c_int, _: *mut libc::siginfo_t, _: *mut libc::c_void) {}

/// The signal used to kick the vCPU thread (installed once per process; the
/// flamegraph sampler uses it too).
pub(crate) fn kick_signal() -> Result<libc::c_int> {
    static INSTALLED: OnceLock<Result<libc::c_int, String>> = OnceLock::new();
    INSTALLED
        .get_or_init(|| {
            let sig = SIGRTMIN();
            register_signal_handler(sig, on_kick)
                .map(|()| sig)
                .map_err(|e| e.to_string())
        })
        .clone()
        .map_err(|e| anyhow!("installing the vCPU kick signal handler: {e}"))
}

/// Stop requests for one run and the vCPU thread they kick.
#[derive(Debug, Default)]
pub struct StopControl {
    /// 0: none; [`TIMEOUT`]; or a signal number.
    reason: AtomicI32,
    /// The vCPU thread while its run loop holds the vCPU.
    vcpu: Mutex<Option<libc::pthread_t>>,
    left: Condvar,
}

impl StopControl {
    /// No stop requested yet.
    pub fn new() -> StopControl {
        StopControl::default()
    }

    /// Why a stop was requested, if it was.
    pub fn reason(&self) -> Option<StopReason> {
        match self.reason.load(Ordering::SeqCst) {
            0 => None,
            TIMEOUT => Some(StopReason::Timeout),
            sig => Some(StopReason::Signal(sig)),
        }
    }

    /// Requests a stop (a later request does not change the reason) and, if
    /// the vCPU thread is in its run loop, kicks it until it leaves. Returns
    /// once no run loop holds the vCPU.
    pub fn request(&self, reason: StopReason) {
        let code = match reason {
            StopReason::Timeout => TIMEOUT,
            StopReason::Signal(sig) => sig.max(1),
        };
        let _ = self
            .reason
            .compare_exchange(0, code, Ordering::SeqCst, Ordering::SeqCst);
        let Ok(sig) = kick_signal() else {
            return;
        };
        let mut vcpu = self.vcpu.lock().unwrap_or_else(PoisonError::into_inner);
        while let Some(thread) = *vcpu {
            // SAFETY: `thread` is the vCPU thread, alive: it clears `vcpu`
            // (under this lock) before its run loop returns.
            unsafe { libc::pthread_kill(thread, sig) };
            vcpu = self
                .left
                .wait_timeout(vcpu, KICK_INTERVAL)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// Marks the calling thread as the vCPU thread until the guard is
    /// dropped. Check [`StopControl::reason`] after this, before each
    /// `KVM_RUN`. Fails if the kick signal cannot be installed.
    pub fn enter(&self) -> Result<RunGuard<'_>> {
        kick_signal()?;
        // SAFETY: pthread_self has no preconditions.
        let me = unsafe { libc::pthread_self() };
        *self.vcpu.lock().unwrap_or_else(PoisonError::into_inner) = Some(me);
        Ok(RunGuard { control: self })
    }
}

/// The vCPU thread is in its run loop (see [`StopControl::enter`]).
pub struct RunGuard<'a> {
    control: &'a StopControl,
}

impl Drop for RunGuard<'_> {
    fn drop(&mut self) {
        *self
            .control
            .vcpu
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = None;
        self.control.left.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn a_request_interrupts_a_blocking_call_and_the_first_reason_wins() {
        let control = Arc::new(StopControl::new());
        assert_eq!(control.reason(), None);
        let guard = control.enter().unwrap();
        let requester = {
            let control = control.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(30));
                control.request(StopReason::Signal(libc::SIGTERM));
            })
        };
        // A blocking read is interrupted (EINTR) like KVM_RUN would be.
        let (mut reader, _writer) = std::io::pipe().unwrap();
        let mut b = [0u8];
        let err = std::io::Read::read(&mut reader, &mut b).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::Interrupted);
        assert_eq!(control.reason(), Some(StopReason::Signal(libc::SIGTERM)));
        drop(guard);
        requester.join().unwrap();
        control.request(StopReason::Timeout);
        assert_eq!(control.reason(), Some(StopReason::Signal(libc::SIGTERM)));
    }
}
