//! `faultline`: runs a user program on the faultline kernel in a KVM guest.
//! Exit status: the program's status, or 250 (kernel panic / triple fault),
//! 251 (timeout), 252 (VMM error, bad kernel or disk image), 128 + N after
//! signal N (SIGHUP, SIGINT, SIGTERM) stopped the VM — see `abi::exit`.
//!
//! Nothing it prints can fail it: its output goes through `vmm::output`, so a
//! closed standard output or error only silences it.

use std::io;
use std::process::ExitCode;
use std::sync::Arc;

use abi::exit::{STATUS_VMM_ERROR, signal_status};
use vmm::cli::{self, Parsed};
use vmm::output::{self, Stdout};
use vmm::signals::{self, SignalStop};
use vmm::vcpu::Stop;
use vmm::{Config, StopControl, StopReason, diagln};

fn main() -> ExitCode {
    match cli::parse(std::env::args_os()) {
        Parsed::Info(text) => {
            output::stdout_str(&text);
            ExitCode::SUCCESS
        }
        Parsed::HostInfo => match vmm::host_info::report() {
            Ok(text) => {
                output::stdout_str(&text);
                ExitCode::SUCCESS
            }
            Err(e) => ExitCode::from(error(&e)),
        },
        Parsed::Usage(text) => {
            diagln!("{}", text.trim_end());
            ExitCode::from(STATUS_VMM_ERROR)
        }
        Parsed::Run(config) => ExitCode::from(run(&config)),
    }
}

/// Runs the VM with the signals routed to it; returns the exit status.
fn run(config: &Config) -> u8 {
    let control = Arc::new(StopControl::new());
    let signals = match SignalStop::install(control.clone()) {
        Ok(signals) => signals,
        Err(e) => return error(&e),
    };
    let result = vmm::run_with(config, Box::new(Stdout), Box::new(io::stdin()), &control);
    drop(signals);
    match (result, control.reason()) {
        // A signal the run loop did not report itself (it came during set-up
        // or after the guest ended): still the signal's status.
        (Ok(outcome), Some(StopReason::Signal(sig)))
            if !matches!(outcome.stop, Stop::Signal(_)) =>
        {
            stopped(sig)
        }
        (Err(_), Some(StopReason::Signal(sig))) => stopped(sig),
        (Ok(outcome), _) => outcome.status,
        (Err(e), _) => error(&e),
    }
}

fn stopped(sig: i32) -> u8 {
    diagln!("faultline: stopped by {}", signals::name(sig));
    signal_status(sig)
}

fn error(e: &anyhow::Error) -> u8 {
    let msg = format!("{e:#}").replace('\n', " ");
    diagln!("faultline: error: {msg}");
    STATUS_VMM_ERROR
}
