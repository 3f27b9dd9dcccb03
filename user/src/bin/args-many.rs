//! `args-many`: argument passing with 22 arguments (Pintos `args.c`).
#![no_std]
#![no_main]

#[path = "../shared/args.rs"]
mod args;

ulib::entry!(args::main);
