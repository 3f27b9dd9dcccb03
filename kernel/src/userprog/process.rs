//! User processes: creation of the initial process, `fork`, `exec`, `wait`
//! and `exit`, and the exit records parents wait on.
//!
//! Every process, and every exit status no parent has collected yet, holds
//! one of [`process_limit`] records: `fork` fails with -1 once they are all
//! taken, so neither a fork bomb nor a parent that never waits can exhaust
//! the kernel. Everything `fork` and `exec` allocate is allocated fallibly
//! and given back when they fail.
use super::fdtable::FdTable;
use super::loader::{self, LoadError};
use crate::arch::{self, trap::TrapFrame};
use crate::fs::File;
use crate::mm::fallible;
use crate::sched::{self, Thread};
use crate::sync::{Condvar, Mutex, SpinLock};
use crate::vm::{self, AddressSpace, SpaceId};
use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};

/// A process id: positive, never reused; -1 is the failure value of `fork`
/// and `exec`.
pub type Pid = i64;

static NEXT_PID: AtomicI64 = AtomicI64::new(1);
static LIVE: AtomicU64 = AtomicU64::new(0);
/// Exit records in existence (one per process, kept until collected).
static RECORDS: AtomicUsize = AtomicUsize::new(0);
/// Most exit records at once (0: not computed yet).
static RECORDS_MAX: AtomicUsize = AtomicUsize::new(0);
/// TSC when the initial process first entered user mode (0 before).
static FIRST_USER_TSC: AtomicU64 = AtomicU64::new(0);

/// Kernel memory budgeted per process when sizing [`process_limit`]: its
/// kernel stack (16 KiB), page tables (~30 KiB), records, and a full table
/// of 1024 open descriptors (~100 KiB), with room to spare, so that the
/// process limit, not the heap's fragmentation, is what stops a fork bomb
/// (the same depth every time).
const BYTES_PER_PROCESS: usize = 192 * 1024;

/// TSC when the initial process first entered user mode.
pub fn first_user_tsc() -> u64 {
    FIRST_USER_TSC.load(Ordering::Relaxed)
}

/// Number of live processes.
pub fn live_processes() -> u64 {
    LIVE.load(Ordering::Relaxed)
}

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
    fn new(pid: Pid) -> Option<Arc<ChildRecord>> {
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
    fn wait(&self) -> i32 {
        let mut status = self.status.lock();
        loop {
            if let Some(s) = *status {
                return s;
            }
            status = self.exited.wait(status);
        }
    }

    /// Records the child's exit status and wakes its waiter.
    fn finish(&self, status: i32) {
        *self.status.lock() = Some(status);
        self.exited.broadcast();
    }
}

impl Drop for ChildRecord {
    fn drop(&mut self) {
        RECORDS.fetch_sub(1, Ordering::Relaxed);
    }
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
        let len = self.name.iter().position(|&b| b == 0).unwrap_or(16);
        core::str::from_utf8(&self.name[..len]).unwrap_or("?")
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

/// The program name of a command line (up to the first space).
fn program_name(cmdline: &[u8]) -> &[u8] {
    let trimmed = cmdline
        .iter()
        .position(|&b| b != b' ')
        .map_or(&cmdline[..0], |s| &cmdline[s..]);
    trimmed.split(|&b| b == b' ').next().unwrap_or(trimmed)
}

/// Starts the initial process and waits for it; returns its exit status.
///
/// When no other process is left, it also checks that every user frame, swap
/// slot, exit record and kernel frame the processes used came back, and
/// reports a leak on the console otherwise (which fails any test judging the
/// output).
pub fn run_initial(cmdline: &[u8]) -> i32 {
    let kernel_before = crate::mm::kernel_frames_outside_heap();
    let status = run_and_wait(cmdline);
    if live_processes() == 0 {
        let user = crate::mm::palloc::user_usage().0;
        let kernel = crate::mm::kernel_frames_outside_heap();
        let (_, swap) = vm::usage();
        let records = RECORDS.load(Ordering::Relaxed);
        if user != 0 || kernel != kernel_before || swap != 0 || records != 0 {
            kprintln!(
                "faultline: LEAK: {user} user frames, {swap} swap slots and {records} exit records in use, kernel frames {kernel_before} -> {kernel}"
            );
        }
    }
    status
}

fn run_and_wait(cmdline: &[u8]) -> i32 {
    let pid = NEXT_PID.fetch_add(1, Ordering::Relaxed);
    let record = ChildRecord::new(pid).expect("no memory for the initial process");
    let fds = FdTable::new().expect("no memory for the initial process");
    let process = Process::new(program_name(cmdline), fds, record.clone())
        .expect("no memory for the initial process");
    let arg = Box::into_raw(Box::new(cmdline.to_vec())) as usize;
    let name = process.name;
    let thread = Thread::spawn(&name, start_initial, arg, Some(process))
        .expect("no memory for the initial process");
    sched::start(thread);
    record.wait()
}

extern "C" fn start_initial(arg: usize) -> ! {
    sched::on_thread_start();
    // SAFETY: `arg` is the Box leaked by run_initial for this thread.
    let cmdline = unsafe { Box::from_raw(arg as *mut Vec<u8>) };
    exec(&cmdline)
}

/// `exec`: loads `cmdline` into a fresh address space and, on success, replaces the
/// current image with it and enters user mode. On failure the process exits
/// with -1 after the `load:` message.
pub fn exec(cmdline: &[u8]) -> ! {
    let process = current();
    let name = program_name(cmdline);
    let loaded = match loader::load(cmdline, process.pid as u32, &process.name) {
        Ok(l) => l,
        Err(e) => {
            let shown = core::str::from_utf8(name).unwrap_or("?");
            match e {
                LoadError::Open => kprintln!("load: {shown}: open failed"),
                LoadError::Vm(_) | LoadError::Args(_) | LoadError::Elf(_) => {
                    kprintln!("load: {shown}: error loading executable")
                }
            }
            exit(-1);
        }
    };
    // Switch to the new image, then destroy the old one (exec's kill).
    loaded.space.activate();
    sched::switch_address_space(loaded.space.token());
    let old = process.replace_space(Some(loaded.space));
    drop(old);
    *process.exec_file.lock() = Some(loaded.file);
    *process.program.lock() = crate::sched::thread_name(name);
    crate::profile::set_current(process.pid as u32, name);
    let mut frame = TrapFrame::new_user(loaded.entry, loaded.rsp);
    frame.rdi = loaded.argc;
    frame.rsi = loaded.argv;
    // A new program starts with a clean FPU; the scheduler saves it on the next switch.
    sched::initial_fpu().restore();
    if FIRST_USER_TSC.load(Ordering::Relaxed) == 0 {
        FIRST_USER_TSC.store(arch::rdtsc(), Ordering::Relaxed);
        arch::mark(abi::device::Marker::FirstUserInstruction);
    }
    arch::trap::enter_user(&frame)
}

struct ForkStart {
    frame: TrapFrame,
}

/// `fork`: duplicates the current process; returns the child's pid, or -1
/// when the process table is full or kernel memory is short (everything
/// taken is given back then).
pub fn fork(name: &[u8], frame: &TrapFrame) -> Pid {
    try_fork(name, frame).unwrap_or(-1)
}

fn try_fork(name: &[u8], frame: &TrapFrame) -> Option<Pid> {
    let parent = current();
    let parent_space = parent.space()?;
    let pid = NEXT_PID.fetch_add(1, Ordering::Relaxed);
    let record = ChildRecord::new(pid)?;
    let fds = parent.fds.lock().fork_copy().ok()?;
    let child = Process::new(name, fds, record.clone())?;
    let space = vm::fork_space(parent_space, pid as u32, &child.name).ok()?;
    let token = space.token();
    space.activate();
    drop(child.replace_space(Some(space)));
    *child.exec_file.lock() = parent.exec_file.lock().clone();
    *child.program.lock() = *parent.program.lock();
    let mut child_frame = *frame;
    child_frame.rax = 0;
    let start = fallible::try_box(ForkStart { frame: child_frame }).ok()?;
    fallible::try_reserve(&mut parent.children.lock(), 1).ok()?;
    let arg = Box::into_raw(start) as usize;
    let thread = match Thread::spawn(&child.name, start_forked, arg, Some(child.clone())) {
        Ok(t) => t,
        Err(_) => {
            // SAFETY: the box was leaked just above and no thread took it.
            drop(unsafe { Box::from_raw(arg as *mut ForkStart) });
            // Dropping `child` (here, in process context) destroys its
            // space, closes its files and gives its record back.
            return None;
        }
    };
    thread.set_page_root(token);
    // SAFETY: the child has not run yet; this saves the parent's live FPU state
    // into the child's area.
    unsafe { thread.fpu().save() };
    // Room was reserved above.
    parent.children.lock().push(record);
    sched::start(thread);
    Some(pid)
}

extern "C" fn start_forked(arg: usize) -> ! {
    sched::on_thread_start();
    // SAFETY: `arg` is the Box leaked by fork for this thread.
    let start = unsafe { Box::from_raw(arg as *mut ForkStart) };
    let frame = start.frame;
    drop(start);
    arch::trap::enter_user(&frame)
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

/// Ends the current process with `status`: prints the exit line, closes its
/// files, frees its memory and wakes its parent.
pub fn exit(status: i32) -> ! {
    let process = current();
    kprintln!("{}: exit({})", process.name(), status);
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
