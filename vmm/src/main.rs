//! `faultline`: runs a user program on the faultline kernel in a KVM guest.
//! Exit status: the program's status, or 250 (kernel panic / triple fault),
//! 251 (timeout), 252 (VMM error) — see `abi::exit`.

use std::process::ExitCode;

use abi::exit::STATUS_VMM_ERROR;
use vmm::cli::{self, Parsed};

fn main() -> ExitCode {
    match cli::parse(std::env::args_os()) {
        Parsed::Info(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Parsed::HostInfo => match vmm::host_info::report() {
            Ok(text) => {
                print!("{text}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("faultline: error: {}", format!("{e:#}").replace('\n', " "));
                ExitCode::from(STATUS_VMM_ERROR)
            }
        },
        Parsed::Usage(text) => {
            eprintln!("{}", text.trim_end());
            ExitCode::from(STATUS_VMM_ERROR)
        }
        Parsed::Run(config) => match vmm::run(&config) {
            Ok(outcome) => ExitCode::from(outcome.status),
            Err(e) => {
                let msg = format!("{e:#}").replace('\n', " ");
                eprintln!("faultline: error: {msg}");
                ExitCode::from(STATUS_VMM_ERROR)
            }
        },
    }
}
