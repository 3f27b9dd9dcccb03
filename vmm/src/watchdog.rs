//! The `--timeout` watchdog: a thread that, once the deadline passes, marks the
//! run as timed out and kicks the vCPU thread out of `KVM_RUN` with a signal
//! (repeating the kick until the run loop notices, so a signal that lands just
//! before `KVM_RUN` is entered is not lost).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};
use vmm_sys_util::signal::{SIGRTMIN, register_signal_handler};

/// How often the kick repeats until the vCPU thread stops.
const KICK_INTERVAL: Duration = Duration::from_millis(10);

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

/// A running watchdog.
pub struct Watchdog {
    done: Arc<(Mutex<bool>, Condvar)>,
    fired: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Watchdog {
    /// Watches the calling thread (the vCPU thread); `None` never fires.
    pub fn start(timeout: Option<Duration>) -> Result<Watchdog> {
        let done = Arc::new((Mutex::new(false), Condvar::new()));
        let fired = Arc::new(AtomicBool::new(false));
        let Some(timeout) = timeout else {
            return Ok(Watchdog {
                done,
                fired,
                thread: None,
            });
        };
        let sig = kick_signal()?;
        // SAFETY: pthread_self has no preconditions.
        let target = unsafe { libc::pthread_self() };
        let thread = {
            let done = done.clone();
            let fired = fired.clone();
            std::thread::Builder::new()
                .name("watchdog".into())
                .spawn(move || watch(timeout, target, sig, &done, &fired))
                .context("starting the watchdog thread")?
        };
        Ok(Watchdog {
            done,
            fired,
            thread: Some(thread),
        })
    }

    /// Whether the deadline has passed.
    pub fn fired(&self) -> bool {
        self.fired.load(Ordering::SeqCst)
    }

    /// The flag the run loop polls.
    pub fn flag(&self) -> &AtomicBool {
        &self.fired
    }

    /// Stops the watchdog (the vCPU thread has left its run loop).
    pub fn finish(&mut self) {
        let (lock, cv) = &*self.done;
        *lock.lock().unwrap_or_else(PoisonError::into_inner) = true;
        cv.notify_all();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.finish();
    }
}

fn watch(
    timeout: Duration,
    target: libc::pthread_t,
    sig: libc::c_int,
    done: &(Mutex<bool>, Condvar),
    fired: &AtomicBool,
) {
    let (lock, cv) = done;
    let deadline = Instant::now() + timeout;
    let mut finished = lock.lock().unwrap_or_else(PoisonError::into_inner);
    while !*finished {
        let now = Instant::now();
        if now < deadline {
            finished = cv
                .wait_timeout(finished, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
            continue;
        }
        fired.store(true, Ordering::SeqCst);
        // SAFETY: `target` is the vCPU thread, which is alive: it calls
        // `finish` (which joins this thread) before it returns from the run.
        unsafe { libc::pthread_kill(target, sig) };
        finished = cv
            .wait_timeout(finished, KICK_INTERVAL)
            .unwrap_or_else(PoisonError::into_inner)
            .0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fires_and_interrupts_a_blocking_call() {
        let mut w = Watchdog::start(Some(Duration::from_millis(50))).unwrap();
        assert!(!w.fired());
        // A blocking read is interrupted (EINTR) like KVM_RUN would be.
        let mut fds = [0; 2];
        // SAFETY: `fds` has room for the two descriptors pipe() writes.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        let mut b = 0u8;
        // SAFETY: reading one byte into a valid one-byte buffer.
        let r = unsafe { libc::read(fds[0], (&raw mut b).cast(), 1) };
        assert_eq!(r, -1);
        assert_eq!(
            std::io::Error::last_os_error().kind(),
            std::io::ErrorKind::Interrupted
        );
        assert!(w.fired());
        w.finish();
        // SAFETY: closing the descriptors this test opened.
        unsafe {
            libc::close(fds[0]);
            libc::close(fds[1]);
        }
    }

    #[test]
    fn finishing_early_never_fires() {
        let mut w = Watchdog::start(Some(Duration::from_secs(60))).unwrap();
        let t = Instant::now();
        w.finish();
        assert!(!w.fired());
        assert!(t.elapsed() < Duration::from_secs(5));
        let w = Watchdog::start(None).unwrap();
        assert!(!w.fired());
    }
}
