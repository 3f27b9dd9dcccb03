//! The guest/host contract of faultline, like Linux's uapi headers.
//!
//! Everything the VMM, the kernel and user programs must agree on lives here:
//! system-call numbers ([`syscall`]), the address-space constants of the user ABI
//! ([`layout`]), the boot-information block the VMM hands the kernel ([`boot`]),
//! I/O ports and device addresses ([`device`]), the VMM's exit statuses
//! ([`exit`]), the on-disk format of the file-system disk and its validation
//! ([`fs`]), the layout of the fault-profile buffer ([`profile`]), the
//! debugger port ([`debug`]) and the note that marks a faultline kernel
//! binary with the contract's version ([`marker`]).
//! `no_std`, no dependencies, plain `#[repr(C)]` data.
#![no_std]

pub mod boot;
pub mod debug;
pub mod device;
pub mod exit;
pub mod fs;
pub mod layout;
pub mod marker;
pub mod profile;
pub mod syscall;
