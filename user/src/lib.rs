//! `ulib`: the user-space library of faultline programs.
//!
//! It gives a program its entry point ([`entry!`]), the system calls ([`sys`]),
//! console output that writes each line with one `write` ([`print!`],
//! [`println!`]), the Pintos test conventions ([`msg!`], [`fail!`], [`check!`],
//! [`test_main!`]), NUL-terminated strings built on the stack ([`cstr`]) and
//! buffers that straddle a page boundary ([`boundary`]), the test data
//! ([`sample`]), deliberate bad accesses ([`fault`]) and the proof that the
//! kernel survived them ([`health`]).
#![no_std]

pub mod boundary;
pub mod cstr;
pub mod entry;
pub mod fault;
pub mod fstest;
pub mod health;
pub mod panic;
pub mod print;
pub mod sample;
pub mod sys;
pub mod test;
pub mod vmtest;

pub use abi;
pub use cstr::CBuf;
