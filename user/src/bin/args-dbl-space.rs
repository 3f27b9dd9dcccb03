//! `args-dbl-space`: argument passing with arguments separated by two spaces (Pintos `args.c`).
#![no_std]
#![no_main]

#[path = "../shared/args.rs"]
mod args;

ulib::entry!(args::main);
