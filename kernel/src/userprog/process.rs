//! User processes: creation of the initial process, `fork`, `exec`, `wait`
//! and `exit`, and the exit records parents wait on.
//!
//! Every process, and every exit status no parent has collected yet, holds
//! one of [`process_limit`] records: `fork` fails with -1 once they are all
//! taken, so neither a fork bomb nor a parent that never waits can exhaust
//! the kernel. Everything `fork` and `exec` allocate is allocated fallibly
//! and given back when they fail.
mod records;
mod spawn;

pub use records::{ChildRecord, process_limit, wait};
pub use spawn::{exec, fork, run_initial};

use super::fdtable::FdTable;
use crate::fs::File;
use crate::mm::fallible;
use crate::sched;
use crate::sync::{Mutex, SpinLock};
use crate::vm::{self, AddressSpace, SpaceId};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// A process id: positive, never reused; -1 is the failure value of `fork`
/// and `exec`.
pub type Pid = i64;

static LIVE: AtomicU64 = AtomicU64::new(0);
/// TSC when the initial process first entered user mode (0 before).
static FIRST_USER_TSC: AtomicU64 = AtomicU64::new(0);

/// TSC when the initial process first entered user mode.
pub fn first_user_tsc() -> u64 {
    FIRST_USER_TSC.load(Ordering::Relaxed)
}

/// Number of live processes.
pub fn live_processes() -> u64 {
    LIVE.load(Ordering::Relaxed)
}

/// A user process: its address space, descriptors, children and the record
/// its parent waits on.
pub struct Process {
    /// The process's id.
    pub pid: Pid,
    /// Name used in `NAME: exit(STATUS)`: the program name as started, or the fork name.
    pub name: [u8; 16],
    /// The address space. Never dropped while the lock is held (dropping
    /// it destroys the space under the VM's sleeping lock).
    space: SpinLock<Option<AddressSpace>>,
    /// The user stack pointer at the last system-call entry (the stack rule
    /// for faults taken on behalf of system calls).
    pub syscall_rsp: AtomicU64,
    /// `SYS_TRAP_BENCH`: a breakpoint returns at once instead of killing.
    pub trap_bench: AtomicBool,
    /// [`vm::reaps`] when this process last checked whether it was killed.
    seen_reaps: AtomicU64,
    /// The open file descriptors.
    pub fds: Mutex<FdTable>,
    /// The running executable, kept open with writes denied.
    pub exec_file: Mutex<Option<Arc<File>>>,
    /// The running executable's file name (the exit line uses `name`).
    pub program: SpinLock<[u8; 16]>,
    /// The records of the children not yet waited for.
    pub children: Mutex<Vec<Arc<ChildRecord>>>,
    /// This process's own record, shared with its parent.
    pub record: Arc<ChildRecord>,
}

impl Process {
    /// A process `pid` named `name` with descriptors `fds` and exit record
    /// `record`; `None` when memory is short.
    fn new(name: &[u8], fds: FdTable, record: Arc<ChildRecord>) -> Option<Arc<Process>> {
        let process = fallible::try_arc(Process {
            pid: record.pid,
            name: crate::sched::thread_name(name),
            space: SpinLock::new(None),
            syscall_rsp: AtomicU64::new(0),
            trap_bench: AtomicBool::new(false),
            seen_reaps: AtomicU64::new(vm::reaps()),
            fds: Mutex::new(fds),
            exec_file: Mutex::new(None),
            program: SpinLock::new(crate::sched::thread_name(name)),
            children: Mutex::new(Vec::new()),
            record,
        })
        .ok()?;
        LIVE.fetch_add(1, Ordering::Relaxed);
        Some(process)
    }

    /// The address space.
    pub fn space(&self) -> Option<SpaceId> {
        self.space.lock().as_ref().map(AddressSpace::id)
    }

    /// Installs `space` and returns the one it replaces (for the caller to
    /// drop outside the lock).
    fn replace_space(&self, space: Option<AddressSpace>) -> Option<AddressSpace> {
        core::mem::replace(&mut *self.space.lock(), space)
    }

    /// The name as text.
    pub fn name(&self) -> &str {
        crate::sched::name_text(&self.name)
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        LIVE.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The current process (panics in kernel threads: callers are system calls).
pub fn current() -> &'static Arc<Process> {
    sched::current_ref()
        .process
        .as_ref()
        .expect("not a user process")
}

/// Ends the current process with `exit(-1)` if the out-of-memory killer
/// reaped its memory (checked when the kernel is entered from user mode and
/// before it returns there, so a killed process can neither run on nor exit
/// normally). Cheap unless a process was reaped since the last check.
pub fn exit_if_killed() {
    let Some(process) = sched::current_ref().process.as_ref() else {
        return;
    };
    let reaps = vm::reaps();
    if process.seen_reaps.swap(reaps, Ordering::Relaxed) == reaps {
        return;
    }
    if process.space().is_some_and(vm::is_dead) {
        exit(-1);
    }
}

/// Tells the user that process `pid` (`name`) is killed for lack of memory,
/// with a hint from the swap usage `swap` (slots in use, slots in total).
pub fn report_oom_kill(pid: u32, name: &[u8], swap: (u32, u32)) {
    let name = core::str::from_utf8(name).unwrap_or("?");
    match swap {
        (_, 0) => kprintln!(
            "faultline: out of memory: killing {name} (pid {pid}); no swap: --swap SIZE lets the kernel evict pages"
        ),
        (used, total) => kprintln!(
            "faultline: out of memory: killing {name} (pid {pid}); swap {used}/{total} pages in use: a larger --swap or --user-mem gives more room"
        ),
    }
}

/// Ends the current process with `status`: prints the exit line, closes its
/// files, frees its memory and wakes its parent. Never inlined: profiles and
/// backtraces show the exit path under its own name (it runs once per
/// process, so the call costs nothing).
#[inline(never)]
pub fn exit(status: i32) -> ! {
    let process = current();
    // Exits come in bursts: the line waits for the console's next flush.
    crate::console::write_fmt_deferred(format_args!("{}: exit({})\n", process.name(), status));
    *process.fds.lock() = FdTable::empty();
    *process.exec_file.lock() = None;
    *process.children.lock() = Vec::new();
    // Destroy the pages now; the emptied tables stay loaded until this
    // thread has switched away for good (no load of the kernel's tables).
    if let Some(table) = process.replace_space(None).and_then(AddressSpace::retire) {
        sched::park_page_table(table);
    }
    crate::mm::heap::trim_slack();
    // Everything the process wrote reaches the disk before anyone sees it exit.
    let _ = crate::fs::flush();
    process.record.finish(status);
    sched::exit_thread()
}
