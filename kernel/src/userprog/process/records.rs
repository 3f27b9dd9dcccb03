//! The exit records parents wait on (at most [`process_limit`] at once) and
//! `wait`, which collects one.
use super::{Pid, current};
use crate::mm::fallible;
use crate::sync::{Condvar, Mutex};
use alloc::sync::Arc;
use core::sync::atomic::{AtomicUsize, Ordering};

/// Exit records in existence (one per process, kept until collected).
pub(super) static RECORDS: AtomicUsize = AtomicUsize::new(0);
/// Most exit records at once (0: not computed yet).
static RECORDS_MAX: AtomicUsize = AtomicUsize::new(0);

/// Kernel memory budgeted per process when sizing [`process_limit`]: its
/// kernel stack (16 KiB), page tables (~30 KiB), records, and a full table
/// of 1024 open descriptors (~100 KiB), with room to spare, so that the
/// process limit, not the heap's fragmentation, is what stops a fork bomb
/// (the same depth every time).
const BYTES_PER_PROCESS: usize = 192 * 1024;

/// The most processes plus uncollected exit statuses there can be at once:
/// the kernel pool divided by [`BYTES_PER_PROCESS`] (192 KiB), between 16 and 4096
/// (like Linux's `max_threads`, sized from memory).
pub fn process_limit() -> usize {
    let known = RECORDS_MAX.load(Ordering::Relaxed);
    if known != 0 {
        return known;
    }
    let (_, frames) = crate::mm::palloc::kernel_usage();
    let max = (frames * abi::layout::PAGE_SIZE as usize / BYTES_PER_PROCESS).clamp(16, 4096);
    RECORDS_MAX.store(max, Ordering::Relaxed);
    max
}

/// What a parent keeps of a child: its pid and, once it exits, its status
/// (the parent waits on the condition variable until it is there).
pub struct ChildRecord {
    /// The child's pid.
    pub pid: Pid,
    status: Mutex<Option<i32>>,
    exited: Condvar,
}

impl ChildRecord {
    /// A record for process `pid`; `None` when [`process_limit`] records
    /// exist already or memory is short.
    pub(super) fn new(pid: Pid) -> Option<Arc<ChildRecord>> {
        if RECORDS.fetch_add(1, Ordering::Relaxed) >= process_limit() {
            RECORDS.fetch_sub(1, Ordering::Relaxed);
            return None;
        }
        // On failure the dropped record gives its count back.
        fallible::try_arc(ChildRecord {
            pid,
            status: Mutex::new(None),
            exited: Condvar::new(),
        })
        .ok()
    }

    /// Sleeps until the child has exited; returns its status.
    pub(super) fn wait(&self) -> i32 {
        let mut status = self.status.lock();
        loop {
            if let Some(s) = *status {
                return s;
            }
            status = self.exited.wait(status);
        }
    }

    /// Records the child's exit status and wakes its waiter.
    pub(super) fn finish(&self, status: i32) {
        *self.status.lock() = Some(status);
        self.exited.broadcast();
    }
}

impl Drop for ChildRecord {
    fn drop(&mut self) {
        RECORDS.fetch_sub(1, Ordering::Relaxed);
    }
}

/// `wait`: the exit status of child `pid`, or -1 if it is not a child or was
/// already waited for.
pub fn wait(pid: Pid) -> i32 {
    let process = current();
    let record = {
        let mut children = process.children.lock();
        let Some(i) = children.iter().position(|c| c.pid == pid) else {
            return -1;
        };
        children.swap_remove(i)
    };
    record.wait()
}
