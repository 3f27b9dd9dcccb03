//! A kernel thread: its kernel stack, saved stack pointer, FPU state, state,
//! address space and, for user threads, its process.
use super::queue::Link;
use crate::arch::{self, cpu::FpuState};
use crate::mm::{palloc, phys_to_virt};
use crate::userprog::process::Process;
use abi::layout::PAGE_SIZE;
use alloc::sync::Arc;
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicU8, AtomicU64, Ordering};

/// A thread's id, unique for the kernel's lifetime (never reused).
pub type Tid = u64;
/// A shared handle to a thread (the scheduler's queues, the process, waiters).
pub type ThreadRef = Arc<Thread>;

/// Pages of each kernel stack.
const STACK_PAGES: usize = 4;

/// Written at the lowest word of every kernel stack; a thread that finds it
/// changed has overflowed its stack (there is no guard page).
const STACK_CANARY: u64 = 0x5354_4143_4b5f_454e;
/// Kernel stack a thread may use before its exit reports a bug: three
/// quarters of it (the deepest path the test suite reaches, a swap-in
/// under a system call, uses under half). A path that comes near the end
/// shows in any test that reaches it, before one overflows.
const STACK_WARN: usize = STACK_PAGES * PAGE_SIZE as usize * 3 / 4;

static NEXT_TID: AtomicU64 = AtomicU64::new(1);

/// Where a thread is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum ThreadState {
    /// On the CPU.
    Running = 0,
    /// In the ready queue, waiting for the CPU.
    Ready = 1,
    /// Waiting for an event (a semaphore, a sleep, I/O).
    Blocked = 2,
    /// Exited; its stack is freed once the scheduler has switched away.
    Dying = 3,
}

/// A kernel thread: its saved context, kernel stack and FPU state, and the
/// user process it runs, if any.
pub struct Thread {
    /// The thread's id.
    pub tid: Tid,
    /// Its name (NUL-padded), for panics and the profile.
    pub name: [u8; 16],
    state: AtomicU8,
    saved_rsp: UnsafeCell<u64>,
    /// Guest-physical base of the kernel stack (0 for the boot stack).
    stack_pa: u64,
    stack_top: u64,
    fpu: UnsafeCell<FpuState>,
    /// Address-space token for `arch::switch_address_space` (0 = kernel only).
    page_root: AtomicU64,
    /// The user process this thread runs, if any.
    pub process: Option<Arc<Process>>,
    /// The next thread in the queue this thread waits in (see [`super::queue`]).
    pub(super) link: Link,
    /// While sleeping: the tick to wake at.
    pub(super) wake_at: AtomicU64,
    /// The emptied page table of the process's last address space, kept
    /// (loaded) until the thread has switched away for good; freed with
    /// the thread.
    pub(super) parked_table: crate::sync::SpinLock<Option<crate::arch::paging::PageTable>>,
}

// SAFETY: the UnsafeCells are touched only by the scheduler with interrupts off
// (saved_rsp, fpu) on a single CPU.
unsafe impl Sync for Thread {}
// SAFETY: a Thread owns nothing tied to the CPU or thread that made it: its
// UnsafeCells hold plain values (a stack pointer, an FPU image) reached only
// as said above, and its other fields are atomics, locks and Arcs.
unsafe impl Send for Thread {}

/// Out of kernel memory for a thread.
#[derive(Debug, Clone, Copy)]
pub struct OutOfMemory;

impl Thread {
    pub(super) fn from_boot_stack() -> ThreadRef {
        let top = (&raw const crate::BOOT_STACK) as u64 + crate::BOOT_STACK_SIZE as u64;
        let t = Arc::new(Thread {
            tid: NEXT_TID.fetch_add(1, Ordering::Relaxed),
            name: name16(b"main"),
            state: AtomicU8::new(ThreadState::Running as u8),
            saved_rsp: UnsafeCell::new(0),
            stack_pa: 0,
            stack_top: top,
            fpu: UnsafeCell::new(FpuState::initial()),
            page_root: AtomicU64::new(0),
            process: None,
            link: Link::new(None),
            wake_at: AtomicU64::new(0),
            parked_table: crate::sync::SpinLock::new(None),
        });
        arch::set_kernel_stack(top);
        t
    }

    /// Creates a thread that will run `entry(arg)` once started with
    /// [`super::start`]; `entry` must call [`super::on_thread_start`] first.
    /// Fails with [`OutOfMemory`] when kernel memory for its stack or its
    /// record is short (nothing is kept then).
    pub fn spawn(
        name: &[u8],
        entry: extern "C" fn(usize) -> !,
        arg: usize,
        process: Option<Arc<Process>>,
    ) -> Result<ThreadRef, OutOfMemory> {
        let stack_pa = crate::mm::alloc_charged_pages(STACK_PAGES, 1).ok_or(OutOfMemory)?;
        let stack_top = phys_to_virt(stack_pa) + (STACK_PAGES as u64) * PAGE_SIZE;
        // SAFETY: the lowest word of the stack frames just allocated.
        unsafe { (phys_to_virt(stack_pa) as *mut u64).write(STACK_CANARY) };
        // SAFETY: the stack frames were just allocated for this thread.
        let rsp = unsafe { arch::context::init_stack(stack_top, entry, arg) };
        let thread = crate::mm::fallible::try_arc(Thread {
            tid: NEXT_TID.fetch_add(1, Ordering::Relaxed),
            name: name16(name),
            state: AtomicU8::new(ThreadState::Blocked as u8),
            saved_rsp: UnsafeCell::new(rsp),
            stack_pa,
            stack_top,
            fpu: UnsafeCell::new(FpuState::initial()),
            page_root: AtomicU64::new(0),
            process,
            link: Link::new(None),
            wake_at: AtomicU64::new(0),
            parked_table: crate::sync::SpinLock::new(None),
        });
        // On failure the dropped Thread gives its stack back.
        thread.map_err(|_| OutOfMemory)
    }

    /// The thread's state now.
    pub fn state(&self) -> ThreadState {
        match self.state.load(Ordering::Relaxed) {
            0 => ThreadState::Running,
            1 => ThreadState::Ready,
            2 => ThreadState::Blocked,
            _ => ThreadState::Dying,
        }
    }

    pub(super) fn set_state(&self, s: ThreadState) {
        self.state.store(s as u8, Ordering::Relaxed);
    }

    pub(super) fn saved_rsp(&self) -> u64 {
        // SAFETY: read by the scheduler with interrupts off.
        unsafe { *self.saved_rsp.get() }
    }

    pub(super) fn saved_rsp_slot(&self) -> *mut u64 {
        self.saved_rsp.get()
    }

    /// The address just above the thread's kernel stack (where traps from
    /// user mode land).
    pub fn kernel_stack_top(&self) -> u64 {
        self.stack_top
    }

    /// Panics if the thread has overflowed its kernel stack.
    pub fn check_stack(&self) {
        if self.stack_pa == 0 {
            return;
        }
        // SAFETY: the lowest word of this thread's own stack frames.
        let canary = unsafe { (phys_to_virt(self.stack_pa) as *const u64).read() };
        if canary != STACK_CANARY {
            panic!(
                "kernel stack overflow in thread {} ({})",
                self.tid,
                name_text(&self.name)
            );
        }
    }

    /// The thread's FPU save area.
    ///
    /// # Safety
    /// Only the scheduler (interrupts off) or the thread itself before it first
    /// runs may use it.
    #[allow(clippy::mut_from_ref)]
    pub unsafe fn fpu(&self) -> &mut FpuState {
        // SAFETY: the caller is the scheduler with interrupts off, or the
        // thread before it first runs (the contract above); on one CPU no
        // other reference to the save area exists while this one lives.
        unsafe { &mut *self.fpu.get() }
    }

    /// The address-space token the thread runs in (0: the kernel's only).
    pub fn page_root(&self) -> u64 {
        self.page_root.load(Ordering::Relaxed)
    }

    /// Records the address space this thread runs in (the scheduler loads it
    /// when it switches to the thread; for the running thread use
    /// `sched::switch_address_space`).
    pub fn set_page_root(&self, token: u64) {
        self.page_root.store(token, Ordering::Relaxed);
    }
}

impl Drop for Thread {
    fn drop(&mut self) {
        if self.stack_pa != 0 {
            let used = self.stack_used();
            if used > STACK_WARN {
                crate::kprintln!(
                    "faultline: BUG: thread {} ({}) used {used} of its {} bytes of kernel stack",
                    self.tid,
                    name_text(&self.name),
                    STACK_PAGES * PAGE_SIZE as usize
                );
            }
            palloc::free_kernel_pages(self.stack_pa, STACK_PAGES);
        }
    }
}

impl Thread {
    /// The deepest its kernel stack went, in bytes: the stack starts zeroed,
    /// so everything above the lowest non-zero word (the canary aside) was
    /// written. Only for a thread that no longer runs.
    fn stack_used(&self) -> usize {
        let words = STACK_PAGES * PAGE_SIZE as usize / 8;
        // SAFETY: the stack frames belong to this thread, which has exited
        // (it is being dropped), so nothing runs on them; they are mapped in
        // the direct map and read only here.
        let stack = unsafe {
            core::slice::from_raw_parts(phys_to_virt(self.stack_pa) as *const u64, words)
        };
        let lowest = stack[1..]
            .iter()
            .position(|&w| w != 0)
            .map_or(words, |i| i + 1);
        (words - lowest) * 8
    }
}

/// A name padded by [`name16`] as text (up to its first zero byte; `?` if
/// it is not UTF-8).
pub fn name_text(name: &[u8; 16]) -> &str {
    let len = name.iter().position(|&b| b == 0).unwrap_or(16);
    core::str::from_utf8(&name[..len]).unwrap_or("?")
}

/// A name padded to 16 bytes (truncated to 15).
pub fn name16(name: &[u8]) -> [u8; 16] {
    let mut n = [0u8; 16];
    let len = name.len().min(15);
    n[..len].copy_from_slice(&name[..len]);
    n
}
