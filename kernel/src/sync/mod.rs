//! Kernel synchronization: [`SpinLock`] (interrupts off while held, never
//! sleeps), and the sleeping primitives built on the scheduler: [`Semaphore`],
//! [`Mutex`] and [`Condvar`].
mod condvar;
mod mutex;
mod semaphore;
mod spin;

pub use condvar::Condvar;
pub use mutex::{Mutex, MutexGuard};
pub use semaphore::Semaphore;
pub use spin::{SpinLock, SpinLockGuard};
