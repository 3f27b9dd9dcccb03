//! `child-args`: the `args` program, run by `exec-arg` through `exec`.
#![no_std]
#![no_main]

#[path = "../shared/args.rs"]
mod args;

ulib::entry!(args::main);
