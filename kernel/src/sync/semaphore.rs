//! A counting semaphore: `down` sleeps while the count is zero, `up` wakes the
//! longest waiter.
//!
//! `up` hands its unit straight to the longest waiter instead of raising the
//! count, so waiters are served in FIFO order: a thread that releases and
//! immediately re-takes a [`super::Mutex`] cannot starve the threads queued
//! on it. Waiting never allocates (the queue links threads through themselves).
use super::SpinLock;
use crate::sched::{self, ThreadQueue};

/// A counting semaphore with FIFO hand-off to its waiters.
pub struct Semaphore {
    inner: SpinLock<Inner>,
}

struct Inner {
    value: usize,
    waiters: ThreadQueue,
}

impl Semaphore {
    /// A semaphore whose count starts at `value`.
    pub const fn new(value: usize) -> Semaphore {
        Semaphore {
            inner: SpinLock::new(Inner {
                value,
                waiters: ThreadQueue::new(),
            }),
        }
    }

    /// Waits until the count is positive, then decrements it.
    pub fn down(&self) {
        let mut g = self.inner.lock();
        if g.value > 0 {
            g.value -= 1;
            return;
        }
        g.waiters.push_back(sched::current());
        let was = g.unlock_keep_interrupts_off();
        // Woken only by `up`, which handed this thread its unit.
        sched::block();
        crate::arch::intr_restore(was);
    }

    /// Gives the unit to the longest waiter, or increments the count if none waits.
    pub fn up(&self) {
        let mut g = self.inner.lock();
        match g.waiters.pop_front() {
            Some(t) => sched::unblock(t),
            None => g.value += 1,
        }
    }
}
