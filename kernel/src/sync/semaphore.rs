//! A counting semaphore: `down` sleeps while the count is zero, `up` wakes the
//! longest waiter.
use super::SpinLock;
use crate::sched::{self, ThreadRef};
use alloc::collections::VecDeque;

pub struct Semaphore {
    inner: SpinLock<Inner>,
}

struct Inner {
    value: usize,
    waiters: VecDeque<ThreadRef>,
}

impl Semaphore {
    pub const fn new(value: usize) -> Semaphore {
        Semaphore {
            inner: SpinLock::new(Inner {
                value,
                waiters: VecDeque::new(),
            }),
        }
    }

    /// Waits until the count is positive, then decrements it.
    pub fn down(&self) {
        loop {
            let mut g = self.inner.lock();
            if g.value > 0 {
                g.value -= 1;
                return;
            }
            g.waiters.push_back(sched::current());
            let was = g.unlock_keep_interrupts_off();
            sched::block();
            crate::arch::intr_restore(was);
        }
    }

    /// Decrements the count if positive; returns whether it did.
    pub fn try_down(&self) -> bool {
        let mut g = self.inner.lock();
        if g.value > 0 {
            g.value -= 1;
            true
        } else {
            false
        }
    }

    /// Increments the count and wakes one waiter.
    pub fn up(&self) {
        let mut g = self.inner.lock();
        g.value += 1;
        if let Some(t) = g.waiters.pop_front() {
            sched::unblock(t);
        }
    }
}
