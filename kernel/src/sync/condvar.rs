//! A condition variable (Mesa semantics) used with a [`Mutex`]. Waiting
//! never allocates: waiters are queued through their own thread links.
use super::{MutexGuard, SpinLock};
use crate::arch;
use crate::sched::{self, ThreadQueue};

/// A condition variable: threads wait on it with a [`MutexGuard`] and are
/// woken by [`Condvar::signal`] or [`Condvar::broadcast`].
pub struct Condvar {
    waiters: SpinLock<ThreadQueue>,
}

impl Default for Condvar {
    fn default() -> Self {
        Condvar::new()
    }
}

impl Condvar {
    /// A condition variable no thread waits on.
    pub const fn new() -> Condvar {
        Condvar {
            waiters: SpinLock::new(ThreadQueue::new()),
        }
    }

    /// Releases the guard's mutex, sleeps until signalled, re-takes the mutex.
    pub fn wait<'a, T>(&self, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
        let mutex = guard.mutex();
        // Interrupts stay off from queueing to blocking, so no signal can
        // slip in between (this CPU is the only one).
        let was = arch::intr_disable();
        self.waiters.lock().push_back(sched::current());
        drop(guard);
        sched::block();
        arch::intr_restore(was);
        mutex.lock()
    }

    /// Wakes one waiter.
    pub fn signal(&self) {
        if let Some(t) = self.waiters.lock().pop_front() {
            sched::unblock(t);
        }
    }

    /// Wakes every waiter.
    pub fn broadcast(&self) {
        while let Some(t) = self.waiters.lock().pop_front() {
            sched::unblock(t);
        }
    }
}
