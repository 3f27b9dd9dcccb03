//! User processes: creation of the initial process, `fork`, `exec`, `wait` and
//! `exit`, and the exit-status records parents wait on.
use super::fdtable::FdTable;
use super::loader::{self, LoadError};
use crate::arch::{self, trap::TrapFrame};
use crate::fs::File;
use crate::sched::{self, Thread};
use crate::sync::{Condvar, Mutex, SpinLock};
use crate::vm::{self, SpaceId};
use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering};

pub type Pid = i64;

const NO_SPACE: usize = usize::MAX;

static NEXT_PID: AtomicI64 = AtomicI64::new(1);
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

/// What a parent keeps of a child: its pid and, once it exits, its status
/// (the parent waits on the condition variable until it is there).
pub struct ChildRecord {
    pub pid: Pid,
    status: Mutex<Option<i32>>,
    exited: Condvar,
}

impl ChildRecord {
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

pub struct Process {
    pub pid: Pid,
    /// Name used in `NAME: exit(STATUS)`: the program name as started, or the fork name.
    pub name: [u8; 16],
    /// The address space (`NO_SPACE` when there is none).
    space: AtomicUsize,
    /// The user stack pointer at the last system-call entry (the stack rule
    /// for faults taken on behalf of system calls).
    pub syscall_rsp: AtomicU64,
    /// `SYS_TRAP_BENCH`: a breakpoint returns at once instead of killing.
    pub trap_bench: core::sync::atomic::AtomicBool,
    pub fds: Mutex<FdTable>,
    /// The running executable, kept open with writes denied.
    pub exec_file: Mutex<Option<Arc<File>>>,
    /// The running executable's file name (the exit line uses `name`).
    pub program: SpinLock<[u8; 16]>,
    pub children: Mutex<Vec<Arc<ChildRecord>>>,
    pub record: Arc<ChildRecord>,
}

impl Process {
    fn new(name: &[u8], fds: FdTable) -> Arc<Process> {
        let pid = NEXT_PID.fetch_add(1, Ordering::Relaxed);
        LIVE.fetch_add(1, Ordering::Relaxed);
        Arc::new(Process {
            pid,
            name: crate::sched::thread_name(name),
            space: AtomicUsize::new(NO_SPACE),
            syscall_rsp: AtomicU64::new(0),
            trap_bench: core::sync::atomic::AtomicBool::new(false),
            fds: Mutex::new(fds),
            exec_file: Mutex::new(None),
            program: SpinLock::new(crate::sched::thread_name(name)),
            children: Mutex::new(Vec::new()),
            record: Arc::new(ChildRecord {
                pid,
                status: Mutex::new(None),
                exited: Condvar::new(),
            }),
        })
    }

    /// The address space.
    pub fn space(&self) -> Option<SpaceId> {
        let s = self.space.load(Ordering::Relaxed);
        (s != NO_SPACE).then_some(s)
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
/// slot and kernel frame the processes used came back, and reports a leak on
/// the console otherwise (which fails any test judging the output).
pub fn run_initial(cmdline: &[u8]) -> i32 {
    let kernel_frames_before = crate::mm::palloc::kernel_usage().0;
    let status = run_and_wait(cmdline);
    if live_processes() == 0 {
        let user = crate::mm::palloc::user_usage().0;
        let kernel = crate::mm::palloc::kernel_usage().0;
        let (swap, _) = crate::vm::swap_usage();
        if user != 0 || kernel != kernel_frames_before || swap != 0 {
            kprintln!(
                "faultline: LEAK: {user} user frames and {swap} swap slots in use, kernel frames {kernel_frames_before} -> {kernel}"
            );
        }
    }
    status
}

fn run_and_wait(cmdline: &[u8]) -> i32 {
    let process = Process::new(program_name(cmdline), FdTable::new());
    let record = process.record.clone();
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
    let loaded = match loader::load(cmdline, process.pid as u32) {
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
    sched::switch_address_space(vm::space_token(loaded.space));
    let old = process.space.swap(loaded.space, Ordering::Relaxed);
    if old != NO_SPACE {
        vm::destroy_space(old);
    }
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

/// `fork`: duplicates the current process; returns the child's pid, or -1.
pub fn fork(name: &[u8], frame: &TrapFrame) -> Pid {
    let parent = current();
    let Some(parent_space) = parent.space() else {
        return -1;
    };
    let child = Process::new(name, parent.fds.lock().fork_copy());
    let Ok(space) = vm::new_space(child.pid as u32) else {
        return -1;
    };
    if vm::copy_space(parent_space, space).is_err() {
        vm::destroy_space(space);
        return -1;
    }
    *child.exec_file.lock() = parent.exec_file.lock().clone();
    *child.program.lock() = *parent.program.lock();
    let token = vm::space_token(space);
    child.space.store(space, Ordering::Relaxed);
    let mut child_frame = *frame;
    child_frame.rax = 0;
    let arg = Box::into_raw(Box::new(ForkStart { frame: child_frame })) as usize;
    let thread = match Thread::spawn(&child.name, start_forked, arg, Some(child.clone())) {
        Ok(t) => t,
        Err(_) => {
            // SAFETY: the box was leaked just above and no thread took it.
            drop(unsafe { Box::from_raw(arg as *mut ForkStart) });
            vm::destroy_space(child.space.swap(NO_SPACE, Ordering::Relaxed));
            return -1;
        }
    };
    thread.set_page_root(token);
    // SAFETY: the child has not run yet; this saves the parent's live FPU state
    // into the child's area.
    unsafe { thread.fpu().save() };
    let pid = child.pid;
    parent.children.lock().push(child.record.clone());
    sched::start(thread);
    pid
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
    process.children.lock().clear();
    sched::switch_address_space(0);
    let space = process.space.swap(NO_SPACE, Ordering::Relaxed);
    if space != NO_SPACE {
        vm::destroy_space(space);
    }
    process.record.finish(status);
    sched::exit_thread()
}
