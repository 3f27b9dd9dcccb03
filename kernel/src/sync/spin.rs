//! A lock for a single CPU that keeps interrupts off while held, so interrupt
//! handlers and preemption cannot observe the protected data half-updated.
use crate::arch;
use core::cell::UnsafeCell;
use core::ops::{Deref, DerefMut};
use core::sync::atomic::{AtomicBool, Ordering};

/// A lock around a `T` that keeps interrupts off while it is held.
pub struct SpinLock<T> {
    locked: AtomicBool,
    data: UnsafeCell<T>,
}

// SAFETY: access to `data` is serialized by `locked` with interrupts off.
unsafe impl<T: Send> Sync for SpinLock<T> {}
// SAFETY: moving the lock moves the data.
unsafe impl<T: Send> Send for SpinLock<T> {}

/// A held [`SpinLock`]: gives access to the data; dropping it releases the
/// lock and turns interrupts back on if they were on before.
pub struct SpinLockGuard<'a, T> {
    lock: &'a SpinLock<T>,
    intr_was_enabled: bool,
}

impl<T> SpinLock<T> {
    /// An unlocked lock around `value`.
    pub const fn new(value: T) -> SpinLock<T> {
        SpinLock {
            locked: AtomicBool::new(false),
            data: UnsafeCell::new(value),
        }
    }

    /// Disables interrupts and takes the lock.
    pub fn lock(&self) -> SpinLockGuard<'_, T> {
        let intr_was_enabled = arch::intr_disable();
        #[cfg(not(test))]
        if self.locked.swap(true, Ordering::Acquire) {
            // Single CPU with interrupts off: a held lock here is a re-entry bug.
            panic!("spin lock re-entered");
        }
        // Host unit tests run on several threads at once: there the lock is
        // an ordinary spin lock between them.
        #[cfg(test)]
        while self.locked.swap(true, Ordering::Acquire) {
            core::hint::spin_loop();
        }
        SpinLockGuard {
            lock: self,
            intr_was_enabled,
        }
    }
}

impl<T> SpinLock<T> {
    /// Disables interrupts and takes the lock if it is free; `None` (and
    /// interrupts as they were) when it is held, as it can be only by the
    /// code a panic interrupted.
    pub fn try_lock(&self) -> Option<SpinLockGuard<'_, T>> {
        let intr_was_enabled = arch::intr_disable();
        if self.locked.swap(true, Ordering::Acquire) {
            arch::intr_restore(intr_was_enabled);
            return None;
        }
        Some(SpinLockGuard {
            lock: self,
            intr_was_enabled,
        })
    }
}

impl<T> SpinLockGuard<'_, T> {
    /// Releases the lock but leaves interrupts off; returns whether they were on
    /// before `lock` (for the caller to restore after blocking).
    pub fn unlock_keep_interrupts_off(self) -> bool {
        let was = self.intr_was_enabled;
        self.lock.locked.store(false, Ordering::Release);
        core::mem::forget(self);
        was
    }
}

impl<T> Deref for SpinLockGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard holds the lock.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T> DerefMut for SpinLockGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds the lock exclusively.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T> Drop for SpinLockGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.locked.store(false, Ordering::Release);
        arch::intr_restore(self.intr_was_enabled);
    }
}
