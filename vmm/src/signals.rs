//! SIGINT, SIGTERM and SIGHUP stop the VM instead of killing the process: a
//! thread (signal-hook's iterator) receives them and asks the run's
//! [`StopControl`] to stop with [`StopReason::Signal`], so the VMM tears the
//! VM down, removes its temporary files and exits with 128 + the signal
//! number (`abi::exit::signal_status`). Installed by the `faultline` binary
//! before anything is created, so a signal at any moment is handled this way.

use std::sync::Arc;
use std::thread::JoinHandle;

use anyhow::{Context, Result};
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::{Handle, Signals};

use crate::stop::{StopControl, StopReason};

/// The signals that stop the VM.
pub const STOP_SIGNALS: [i32; 3] = [SIGINT, SIGTERM, SIGHUP];

/// The installed handlers and their thread; dropping it stops the thread.
pub struct SignalStop {
    handle: Handle,
    thread: Option<JoinHandle<()>>,
}

impl SignalStop {
    /// Routes [`STOP_SIGNALS`] to `control`. Fails if the handlers or the
    /// thread cannot be set up.
    pub fn install(control: Arc<StopControl>) -> Result<SignalStop> {
        let mut signals =
            Signals::new(STOP_SIGNALS).context("installing the SIGINT/SIGTERM/SIGHUP handlers")?;
        let handle = signals.handle();
        let thread = std::thread::Builder::new()
            .name("signals".into())
            .spawn(move || {
                for sig in signals.forever() {
                    control.request(StopReason::Signal(sig));
                }
            })
            .context("starting the signal thread")?;
        Ok(SignalStop {
            handle,
            thread: Some(thread),
        })
    }
}

impl Drop for SignalStop {
    fn drop(&mut self) {
        self.handle.close();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The name of a stop signal (`SIGINT`), or `signal N`.
pub fn name(sig: i32) -> String {
    match sig {
        SIGINT => "SIGINT".into(),
        SIGTERM => "SIGTERM".into(),
        SIGHUP => "SIGHUP".into(),
        n => format!("signal {n}"),
    }
}
