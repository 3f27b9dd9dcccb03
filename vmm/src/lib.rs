//! The faultline VMM: creates a KVM guest with one vCPU, loads the faultline
//! kernel, serves its devices (console, serial, exit and panic ports, virtio-mmio
//! block disks for the file system and swap) and reports how the run ended.
//!
//! [`run`] is the whole VMM; the `faultline` binary only parses the command line
//! ([`cli`]) into a [`Config`] and maps the [`Outcome`] to its exit status.

pub mod boot;
pub mod cli;
pub mod config;
pub mod cpuid;
pub mod devices;
pub mod fsimage;
pub mod loader;
pub mod memory;
pub mod pvm;
pub mod stats;
pub mod symbols;
pub mod vcpu;
pub mod virtio;
pub mod vm;
pub mod watchdog;

pub use config::{Config, CpuModeChoice, SwapConfig};
pub use stats::Stats;
pub use vm::{Outcome, run, run_with_io};
