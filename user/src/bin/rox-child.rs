//! `rox-child`: `child-rox` is writable before and after it runs, not while.
#![no_std]
#![no_main]

#[path = "../shared/rox.rs"]
mod rox;

ulib::test_main!(body);

fn body(_args: &[&str]) {
    rox::run(1);
}
