//! A FIFO queue of threads that never allocates: each thread carries the
//! link to the thread after it ([`Thread::link`]), and a thread is in at most
//! one queue at a time (the ready queue, the sleepers, or one semaphore's or
//! condition variable's waiters), so one link per thread suffices.
//!
//! Queues are only touched with interrupts off (under a [`SpinLock`] or
//! inside the scheduler), so blocking and waking can never fail for lack of
//! memory.
use super::ThreadRef;
use crate::sync::SpinLock;

/// The link a thread carries for the queue it is in.
pub type Link = SpinLock<Option<ThreadRef>>;

/// A FIFO of threads linked through their own [`Link`].
pub struct ThreadQueue {
    head: Option<ThreadRef>,
    /// The last thread (a second reference to it, also held by its predecessor's link or `head`).
    tail: Option<ThreadRef>,
    len: usize,
}

impl Default for ThreadQueue {
    fn default() -> Self {
        ThreadQueue::new()
    }
}

impl ThreadQueue {
    /// An empty queue.
    pub const fn new() -> ThreadQueue {
        ThreadQueue {
            head: None,
            tail: None,
            len: 0,
        }
    }

    /// Number of threads queued.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no thread is queued.
    pub fn is_empty(&self) -> bool {
        self.head.is_none()
    }

    /// Appends `t`, which must not be in any queue.
    pub fn push_back(&mut self, t: ThreadRef) {
        debug_assert!(t.link.lock().is_none(), "thread already queued");
        match self.tail.replace(t.clone()) {
            Some(last) => *last.link.lock() = Some(t),
            None => self.head = Some(t),
        }
        self.len += 1;
    }

    /// Removes and returns the first thread.
    pub fn pop_front(&mut self) -> Option<ThreadRef> {
        let first = self.head.take()?;
        self.head = first.link.lock().take();
        if self.head.is_none() {
            self.tail = None;
        }
        self.len -= 1;
        Some(first)
    }

    /// Moves every thread for which `take` is true to `out`, keeping the
    /// others in order.
    pub fn drain_into(&mut self, out: &mut ThreadQueue, mut take: impl FnMut(&ThreadRef) -> bool) {
        let mut keep = ThreadQueue::new();
        while let Some(t) = self.pop_front() {
            if take(&t) {
                out.push_back(t);
            } else {
                keep.push_back(t);
            }
        }
        *self = keep;
    }
}
