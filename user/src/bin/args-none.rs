//! `args-none`: argument passing with no arguments (Pintos `args.c`).
#![no_std]
#![no_main]

#[path = "../shared/args.rs"]
mod args;

ulib::entry!(args::main);
