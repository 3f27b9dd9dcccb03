//! `rox-multichild`: like `rox-child` with `child-rox` nested five deep.
#![no_std]
#![no_main]

#[path = "../shared/rox.rs"]
mod rox;

ulib::test_main!(body);

fn body(_args: &[&str]) {
    rox::run(5);
}
