//! Kernel threads and the preemptive round-robin scheduler.
//!
//! Every thread has its own kernel stack; user processes are threads with a
//! process attached ([`Thread::process`]). The timer preempts a thread after
//! [`TIME_SLICE`] ticks; [`block`]/[`unblock`] are the primitives the sleeping
//! locks build on; [`sleep_ticks`] sleeps on the timer.
pub mod queue;
mod thread;

pub use queue::ThreadQueue;
pub use thread::{Thread, ThreadRef, ThreadState, Tid, name_text, name16 as thread_name};

use crate::arch::{self, context, cpu::FpuState};
use crate::sync::SpinLock;
use alloc::sync::Arc;
use core::sync::atomic::{AtomicPtr, AtomicU64, Ordering};

/// Timer ticks a thread runs before it is preempted.
pub const TIME_SLICE: u32 = 4;

struct Scheduler {
    ready: ThreadQueue,
    /// Threads in [`sleep_ticks`], each with its wake tick in `wake_at`.
    sleeping: ThreadQueue,
    idle: Option<ThreadRef>,
    /// A thread that exited, freed by the next thread to run.
    dying: Option<ThreadRef>,
    slice: u32,
    need_resched: bool,
}

static SCHED: SpinLock<Scheduler> = SpinLock::new(Scheduler {
    ready: ThreadQueue::new(),
    sleeping: ThreadQueue::new(),
    idle: None,
    dying: None,
    slice: 0,
    need_resched: false,
});

/// The running thread (an `Arc` owned by the scheduler, see [`current`]).
static CURRENT: AtomicPtr<Thread> = AtomicPtr::new(core::ptr::null_mut());
static TICKS: AtomicU64 = AtomicU64::new(0);
static SWITCHES: AtomicU64 = AtomicU64::new(0);

/// Context switches so far.
pub fn switches() -> u64 {
    SWITCHES.load(Ordering::Relaxed)
}

/// Timer ticks since boot.
pub fn ticks() -> u64 {
    TICKS.load(Ordering::Relaxed)
}

/// Turns the boot context into the first thread and creates the idle thread.
pub fn init() {
    let boot = Thread::from_boot_stack();
    CURRENT.store(Arc::into_raw(boot) as *mut Thread, Ordering::Relaxed);
    let idle = Thread::spawn(b"idle", idle_main, 0, None).expect("no memory for the idle thread");
    SCHED.lock().idle = Some(idle);
}

extern "C" fn idle_main(_: usize) -> ! {
    on_thread_start();
    loop {
        // Spend idle time zeroing freed user frames, so that zero-fill
        // faults find them ready; halt when there is none left.
        if !crate::mm::palloc::zero_one_free_user_frame() {
            // Nothing to run: what the console holds goes out first.
            crate::console::flush();
            arch::cpu::idle();
        }
        yield_now();
    }
}

/// The running thread.
pub fn current() -> ThreadRef {
    let p = CURRENT.load(Ordering::Relaxed);
    // SAFETY: CURRENT always holds a pointer from Arc::into_raw of a live thread
    // (the scheduler keeps that reference until the thread is switched away from).
    unsafe {
        Arc::increment_strong_count(p);
        Arc::from_raw(p)
    }
}

/// The running thread, borrowed (valid while it runs).
pub fn current_ref() -> &'static Thread {
    // SAFETY: as in `current`; the running thread outlives any borrow it makes of itself.
    unsafe { &*CURRENT.load(Ordering::Relaxed) }
}

/// Must be the first call of every new thread's entry function.
pub fn on_thread_start() {
    reap();
    arch::intr_enable();
}

fn reap() {
    let dead = SCHED.lock().dying.take();
    drop(dead);
}

/// Makes `t` runnable.
pub fn unblock(t: ThreadRef) {
    let mut s = SCHED.lock();
    t.set_state(ThreadState::Ready);
    s.ready.push_back(t);
    if s.idle.as_ref().is_some_and(|i| Arc::ptr_eq(i, &current())) {
        s.need_resched = true;
    }
}

/// Puts a new thread on the ready queue.
pub fn start(t: ThreadRef) {
    unblock(t);
}

/// Blocks the running thread until [`unblock`]; interrupts must be off.
pub fn block() {
    assert!(!arch::intr_enabled(), "block with interrupts on");
    current_ref().set_state(ThreadState::Blocked);
    schedule();
}

/// Gives up the CPU to the next ready thread, if any.
pub fn yield_now() {
    let was = arch::intr_disable();
    schedule();
    arch::intr_restore(was);
}

/// Sleeps for at least `n` timer ticks.
pub fn sleep_ticks(n: u64) {
    if n == 0 {
        return yield_now();
    }
    let was = arch::intr_disable();
    let t = current();
    t.wake_at.store(ticks() + n, Ordering::Relaxed);
    SCHED.lock().sleeping.push_back(t);
    block();
    arch::intr_restore(was);
}

/// Moves the running thread to the address space `token` (0: the kernel's
/// own): records it as the thread's and loads it in one step, so that a
/// preemption can never bring back the previous one.
pub fn switch_address_space(token: u64) {
    let was = arch::intr_disable();
    current_ref().set_page_root(token);
    arch::switch_address_space(token);
    arch::intr_restore(was);
}

/// Keeps `table` (the running thread's emptied, still loaded page table)
/// until the thread has switched away for good, and makes the thread a
/// kernel-only one (it no longer needs a user half). For `exit`: freeing the
/// table after the switch saves loading the kernel's tables first.
pub fn park_page_table(table: arch::paging::PageTable) {
    let t = current_ref();
    t.set_page_root(0);
    *t.parked_table.lock() = Some(table);
}

/// Ends the running thread; its stack is freed by the next thread.
pub fn exit_thread() -> ! {
    arch::intr_disable();
    current_ref().set_state(ThreadState::Dying);
    schedule();
    unreachable!("a dying thread was scheduled again");
}

/// Called from the timer interrupt (interrupts off).
pub fn timer_tick() {
    let now = TICKS.fetch_add(1, Ordering::Relaxed) + 1;
    // Output the console held back goes out within a tick.
    crate::console::flush();
    let mut s = SCHED.lock();
    if !s.sleeping.is_empty() {
        let Scheduler {
            sleeping, ready, ..
        } = &mut *s;
        sleeping.drain_into(ready, |t| {
            let due = t.wake_at.load(Ordering::Relaxed) <= now;
            if due {
                t.set_state(ThreadState::Ready);
            }
            due
        });
    }
    s.slice += 1;
    if s.slice >= TIME_SLICE && !s.ready.is_empty() {
        s.need_resched = true;
    }
}

/// At the end of a trap: switch threads if the timer asked for it and `allowed`
/// (the interrupted code could be preempted). Interrupts are off.
pub fn maybe_preempt(allowed: bool) {
    let resched = {
        let mut s = SCHED.lock();
        let r = allowed && s.need_resched;
        if r {
            s.need_resched = false;
        }
        r
    };
    if resched {
        schedule();
    }
}

/// Switches to the next ready thread (or idle). Interrupts must be off.
fn schedule() {
    let prev = current_ref();
    prev.check_stack();
    let mut s = SCHED.lock();
    let is_idle = |t: &Thread| s.idle.as_ref().is_some_and(|i| core::ptr::eq(&**i, t));
    let prev_idle = is_idle(prev);
    let next = match s.ready.pop_front() {
        Some(n) => n,
        None if prev.state() == ThreadState::Running => return,
        None => s.idle.clone().expect("no idle thread"),
    };
    if core::ptr::eq(&*next, prev) {
        prev.set_state(ThreadState::Running);
        return;
    }
    // SAFETY: CURRENT holds the scheduler's reference to prev, taken back here.
    let prev_arc = unsafe { Arc::from_raw(CURRENT.load(Ordering::Relaxed)) };
    match prev.state() {
        ThreadState::Running if !prev_idle => {
            prev.set_state(ThreadState::Ready);
            s.ready.push_back(prev_arc);
        }
        ThreadState::Dying => s.dying = Some(prev_arc),
        // Blocked threads are referenced by whoever will unblock them; idle by `s.idle`.
        _ => drop(prev_arc),
    }
    s.slice = 0;
    s.need_resched = false;
    SWITCHES.fetch_add(1, Ordering::Relaxed);
    next.set_state(ThreadState::Running);
    // Kernel threads run on whatever address space is loaded (every one
    // maps the kernel), unless the thread leaving dies: its tables go.
    let root = next.page_root();
    if root != 0 || prev.state() == ThreadState::Dying {
        arch::switch_address_space(root);
    }
    arch::set_kernel_stack(next.kernel_stack_top());
    let next_rsp = next.saved_rsp();
    CURRENT.store(Arc::into_raw(next) as *mut Thread, Ordering::Relaxed);
    // Interrupts were already off on entry and stay off through the switch.
    let _ = s.unlock_keep_interrupts_off();
    if crate::profile::enabled() {
        let t = current_ref();
        match &t.process {
            Some(p) => crate::profile::set_current(p.pid as u32, &*p.program.lock()),
            None => crate::profile::set_current(0, &t.name),
        }
    }
    // SAFETY: the FPU areas belong to prev and next, neither of which runs
    // concurrently; switch_context saves prev's registers into prev's stack.
    unsafe {
        prev.fpu().save();
        (*CURRENT.load(Ordering::Relaxed)).fpu().restore();
        context::switch_context(prev.saved_rsp_slot(), next_rsp);
    }
    reap();
}

/// The FPU state a new user thread starts with.
pub fn initial_fpu() -> FpuState {
    FpuState::initial()
}
