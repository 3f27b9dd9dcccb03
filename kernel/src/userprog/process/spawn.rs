//! Starting programs: the initial process, `exec` (a fresh image replacing
//! the current one) and `fork` (a copy-on-write duplicate of the current
//! process), each entering user mode on a new or the same thread.
use super::records::{ChildRecord, RECORDS};
use super::{FIRST_USER_TSC, FdTable, Pid, Process, current, exit, live_processes};
use crate::arch::{self, trap::TrapFrame};
use crate::mm::fallible;
use crate::sched::{self, Thread};
use crate::userprog::loader::{self, LoadError};
use crate::vm;
use alloc::boxed::Box;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicI64, Ordering};

static NEXT_PID: AtomicI64 = AtomicI64::new(1);

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
