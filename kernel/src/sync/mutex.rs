//! A sleeping lock (Pintos `lock`): one holder at a time, waiters sleep; may be
//! held across disk I/O, never taken in an interrupt handler.
use super::Semaphore;
use core::cell::UnsafeCell;
use core::ops::{Deref, DerefMut};

/// A sleeping lock around a `T`: [`Mutex::lock`] sleeps until it is free.
pub struct Mutex<T> {
    sema: Semaphore,
    data: UnsafeCell<T>,
}

// SAFETY: the semaphore admits one holder at a time.
unsafe impl<T: Send> Sync for Mutex<T> {}
// SAFETY: moving the mutex moves the data.
unsafe impl<T: Send> Send for Mutex<T> {}

/// A held [`Mutex`]: gives access to the data; dropping it releases the lock.
pub struct MutexGuard<'a, T> {
    mutex: &'a Mutex<T>,
}

impl<T> Mutex<T> {
    /// An unlocked mutex around `value`.
    pub const fn new(value: T) -> Mutex<T> {
        Mutex {
            sema: Semaphore::new(1),
            data: UnsafeCell::new(value),
        }
    }

    /// Sleeps until the lock is free and takes it.
    pub fn lock(&self) -> MutexGuard<'_, T> {
        self.sema.down();
        MutexGuard { mutex: self }
    }
}

impl<'a, T> MutexGuard<'a, T> {
    /// The mutex this guard holds (for condition variables).
    pub fn mutex(&self) -> &'a Mutex<T> {
        self.mutex
    }
}

impl<T> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard holds the lock.
        unsafe { &*self.mutex.data.get() }
    }
}

impl<T> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds the lock exclusively.
        unsafe { &mut *self.mutex.data.get() }
    }
}

impl<T> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        self.mutex.sema.up();
    }
}
