//! The `--timeout` watchdog: a thread that, once the deadline passes, asks the
//! run's [`StopControl`] to stop the VM with [`StopReason::Timeout`] (which
//! kicks the vCPU thread out of `KVM_RUN`).

use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use crate::stop::{StopControl, StopReason};

/// A running watchdog.
pub struct Watchdog {
    done: Arc<(Mutex<bool>, Condvar)>,
    thread: Option<JoinHandle<()>>,
}

impl Watchdog {
    /// Watches the run that `control` stops; `None` never fires. Fails if
    /// the thread cannot be started.
    pub fn start(timeout: Option<Duration>, control: &Arc<StopControl>) -> Result<Watchdog> {
        let done = Arc::new((Mutex::new(false), Condvar::new()));
        let Some(timeout) = timeout else {
            return Ok(Watchdog { done, thread: None });
        };
        let thread = {
            let done = done.clone();
            let control = control.clone();
            std::thread::Builder::new()
                .name("watchdog".into())
                .spawn(move || watch(timeout, &done, &control))
                .context("starting the watchdog thread")?
        };
        Ok(Watchdog {
            done,
            thread: Some(thread),
        })
    }

    /// Stops the watchdog (call it once the run loop has returned).
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

fn watch(timeout: Duration, done: &(Mutex<bool>, Condvar), control: &StopControl) {
    let (lock, cv) = done;
    let deadline = Instant::now() + timeout;
    let mut finished = lock.lock().unwrap_or_else(PoisonError::into_inner);
    while !*finished {
        let now = Instant::now();
        if now >= deadline {
            drop(finished);
            // Returns once the run loop has let go of the vCPU.
            control.request(StopReason::Timeout);
            return;
        }
        finished = cv
            .wait_timeout(finished, deadline - now)
            .unwrap_or_else(PoisonError::into_inner)
            .0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fires_and_interrupts_a_blocking_call() {
        let control = Arc::new(StopControl::new());
        let guard = control.enter().unwrap();
        let mut w = Watchdog::start(Some(Duration::from_millis(50)), &control).unwrap();
        assert_eq!(control.reason(), None);
        // A blocking read is interrupted (EINTR) like KVM_RUN would be.
        let (mut reader, _writer) = std::io::pipe().unwrap();
        let mut b = [0u8];
        let err = std::io::Read::read(&mut reader, &mut b).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::Interrupted);
        assert_eq!(control.reason(), Some(StopReason::Timeout));
        drop(guard);
        w.finish();
    }

    #[test]
    fn finishing_early_never_fires() {
        let control = Arc::new(StopControl::new());
        let mut w = Watchdog::start(Some(Duration::from_secs(60)), &control).unwrap();
        let t = Instant::now();
        w.finish();
        assert_eq!(control.reason(), None);
        assert!(t.elapsed() < Duration::from_secs(5));
        drop(Watchdog::start(None, &control).unwrap());
        assert_eq!(control.reason(), None);
    }
}
