//! The faultline VMM: creates a KVM guest with one vCPU, loads the faultline
//! kernel, serves its devices (console, serial, exit and panic ports, virtio-mmio
//! block disks for the file system and swap) and reports how the run ended.
//!
//! [`run`] is the whole VMM; the `faultline` binary only parses the command line
//! ([`cli`]) into a [`Config`], routes SIGINT, SIGTERM and SIGHUP to the run's
//! [`StopControl`] ([`signals`]) and maps the [`Outcome`] to its exit status.
//! The VMM's own output never fails it ([`output`]); `--kernel` must carry the
//! faultline note ([`kernel_mark`]).
//!
//! Fault profiling ([`profiling`]): the kernel records into a buffer the VMM
//! reserves ([`profile`]); after the run the VMM prints a table
//! ([`profile_report`]), writes a Chrome trace ([`trace`]) and renders a
//! flamegraph ([`flamegraph`]) from stacks its [`sampler`] read out of the
//! guest ([`guest_stack`]).
//!
//! Debugging: `--gdb PORT` serves the GDB remote serial protocol ([`gdb`]).

pub mod boot;
pub mod cli;
pub mod config;
pub mod cow_view;
pub mod cpuid;
pub mod devices;
pub mod flame_palette;
pub mod flamegraph;
pub mod fs_disk;
pub mod fsimage;
pub mod gdb;
pub mod guest_stack;
pub mod host_info;
pub mod image_cache;
pub mod kernel_mark;
pub mod loader;
pub mod memory;
pub mod output;
pub mod profile;
pub mod profile_report;
pub mod profiling;
pub mod pvm;
pub mod sampler;
pub mod setup;
pub mod signals;
pub mod stack_walk;
pub mod stats;
pub mod stop;
pub mod symbols;
pub mod trace;
pub mod trap_context;
pub mod vcpu;
pub mod virtio;
pub mod vm;
pub mod watchdog;

pub use config::{Config, CpuModeChoice, SwapConfig};
pub use stats::Stats;
pub use stop::{StopControl, StopReason};
pub use vm::{Outcome, run, run_with, run_with_io};
