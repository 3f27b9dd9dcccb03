//! In the host tests, kernel memory never runs out unless a test says so:
//! [`fail_after`] lets that many more charges succeed, then every one fails
//! (to test that a failure midway gives everything back).
use core::cell::Cell;

std::thread_local! {
    static LEFT: Cell<Option<usize>> = const { Cell::new(None) };
}

/// Lets `n` more charges succeed on this thread, then fails them all.
pub fn fail_after(n: usize) {
    LEFT.with(|l| l.set(Some(n)));
}

/// Lets every charge succeed again.
pub fn unlimited() {
    LEFT.with(|l| l.set(None));
}

pub(super) fn charge() -> bool {
    LEFT.with(|l| match l.get() {
        None => true,
        Some(0) => false,
        Some(n) => {
            l.set(Some(n - 1));
            true
        }
    })
}
