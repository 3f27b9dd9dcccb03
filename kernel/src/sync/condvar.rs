//! A condition variable (Mesa semantics) used with a [`Mutex`].
use super::{MutexGuard, Semaphore, SpinLock};
use alloc::collections::VecDeque;
use alloc::sync::Arc;

pub struct Condvar {
    waiters: SpinLock<VecDeque<Arc<Semaphore>>>,
}

impl Default for Condvar {
    fn default() -> Self {
        Condvar::new()
    }
}

impl Condvar {
    pub const fn new() -> Condvar {
        Condvar {
            waiters: SpinLock::new(VecDeque::new()),
        }
    }

    /// Releases the guard's mutex, sleeps until signalled, re-takes the mutex.
    pub fn wait<'a, T>(&self, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
        let sema = Arc::new(Semaphore::new(0));
        self.waiters.lock().push_back(sema.clone());
        let mutex = guard.mutex();
        drop(guard);
        sema.down();
        mutex.lock()
    }

    /// Wakes one waiter.
    pub fn signal(&self) {
        if let Some(s) = self.waiters.lock().pop_front() {
            s.up();
        }
    }

    /// Wakes every waiter.
    pub fn broadcast(&self) {
        while let Some(s) = self.waiters.lock().pop_front() {
            s.up();
        }
    }
}
