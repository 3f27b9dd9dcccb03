//! The fault-path recorder: times each page fault by stage with `rdtsc` and
//! keeps per-kind statistics, a per-process table, an event ring and the
//! current process in the profile buffer the VMM reserved (layout and protocol
//! in `abi::profile`).
//!
//! Without a buffer (the VMM was not asked to profile) [`enabled`] is false
//! and every entry point returns after one load and a branch.
//!
//! How the fault handler uses it:
//! ```ignore
//! let mut t = profile::FaultTimer::start(entry_tsc); // rdtsc taken at trap entry
//! // ... look the page up ...
//! t.stage(Stage::Lookup);
//! // ... get a frame (an eviction inside records profile::span(Evict, ..)) ...
//! t.stage(Stage::FrameAlloc);
//! // ... zero / read the page ...
//! t.stage(Stage::Fill);
//! // ... write the PTE ...
//! t.finish(FaultKind::LazyAnon, pid, va); // the time since the last stage counts as Map
//! ```
//! and the trap path calls [`trap_exit`] just before it returns to the
//! interrupted code, which adds the [`Stage::Return`] cycles to the newest
//! fault. Evictions recorded with [`span`] while a fault is being handled are
//! moved out of whatever stage they happened in into [`Stage::Eviction`].
//!
//! Updates run with interrupts off (a [`SpinLock`]), so a preempted or
//! interrupted recorder never leaves the buffer half-written.

use crate::arch;
use crate::sync::SpinLock;
use abi::boot::BootInfo;
use abi::profile::{
    Event, EventKind, Header, MAX_PROCS, N_STAGES, PROFILE_MAGIC, PROFILE_VERSION, ProfileBuf,
    RING_LEN, name_field,
};
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering, compiler_fence};

pub use abi::profile::{FaultKind, SpanKind, Stage};

/// Whether a buffer is installed.
static ENABLED: AtomicBool = AtomicBool::new(false);
/// Cycles of all eviction spans so far (see [`StageClock::mark`]).
static EVICT_CYCLES: AtomicU64 = AtomicU64::new(0);
/// Cycles of one `rdtsc`, for the overhead estimate.
static RDTSC_CYCLES: AtomicU64 = AtomicU64::new(0);
/// The recorder's state; `None` until [`init`] finds a buffer.
static RECORDER: SpinLock<Option<Recorder>> = SpinLock::new(None);

/// Whether faults are being recorded.
#[inline]
pub fn enabled() -> bool {
    #[cfg(test)]
    if !INSTALLED_HERE.with(core::cell::Cell::get) {
        return false;
    }
    ENABLED.load(Ordering::Relaxed)
}

#[cfg(test)]
std::thread_local! {
    /// Host tests run on several threads: only the test that installed the
    /// recorder records, so the other tests' faults do not land in its counts.
    static INSTALLED_HERE: core::cell::Cell<bool> = const { core::cell::Cell::new(false) };
}

/// Installs the buffer the VMM described in `boot` (nothing happens when it
/// gave none or one too small for this kernel's layout).
pub fn init(boot: &BootInfo) {
    if boot.profile_buf == 0
        || boot.profile_len < ProfileBuf::SIZE as u64
        || !boot.profile_buf.is_multiple_of(8)
        || boot
            .profile_buf
            .checked_add(boot.profile_len)
            .is_none_or(|end| end > boot.mem_size)
    {
        return;
    }
    let buf = crate::mm::phys_to_virt(boot.profile_buf) as *mut ProfileBuf;
    // SAFETY: the VMM reserved `profile_len >= SIZE` bytes of RAM at this
    // 8-aligned guest-physical address for the profile buffer (below
    // `free_start`, so no allocator hands them out) and the direct map covers
    // all RAM; every bit pattern is a valid ProfileBuf.
    unsafe { install(buf, boot.tsc_khz) };
}

/// Makes `buf` the profile buffer and fills in its header.
///
/// # Safety
/// `buf` must point to a writable, 8-aligned `ProfileBuf` that nothing else in
/// the kernel uses for as long as the kernel runs.
unsafe fn install(buf: *mut ProfileBuf, tsc_khz: u64) {
    let rdtsc_cycles = measure_rdtsc();
    RDTSC_CYCLES.store(rdtsc_cycles, Ordering::Relaxed);
    let mut r = RECORDER.lock();
    // SAFETY: the caller's contract; the lock serializes all access.
    let b = unsafe { &mut *buf };
    let h: *mut Header = &mut b.header;
    // SAFETY: `h` points into the buffer; volatile because the VMM reads it.
    unsafe {
        core::ptr::write_volatile(
            h,
            Header {
                magic: 0,
                version: PROFILE_VERSION,
                enabled: 1,
                size: ProfileBuf::SIZE as u64,
                tsc_khz,
                start_tsc: arch::rdtsc(),
                rdtsc_cycles,
                ..Header::default()
            },
        );
        compiler_fence(Ordering::Release);
        core::ptr::write_volatile(&raw mut (*h).magic, PROFILE_MAGIC);
    }
    *r = Some(Recorder {
        buf,
        pending: None,
        last_proc: 0,
    });
    #[cfg(test)]
    INSTALLED_HERE.with(|c| c.set(true));
    ENABLED.store(true, Ordering::Release);
}

/// The cheapest of a few back-to-back `rdtsc` pairs.
fn measure_rdtsc() -> u64 {
    let mut best = u64::MAX;
    for _ in 0..16 {
        let a = arch::rdtsc();
        let b = arch::rdtsc();
        best = best.min(b.wrapping_sub(a));
    }
    best
}

/// Total cycles of the eviction spans recorded so far.
#[inline]
fn evict_total() -> u64 {
    EVICT_CYCLES.load(Ordering::Relaxed)
}

/// The stage accounting of one fault, from explicit timestamps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct StageClock {
    /// TSC at trap entry.
    entry: u64,
    /// TSC at the last mark.
    last: u64,
    /// [`evict_total`] at the last mark.
    evict_seen: u64,
    stages: [u64; N_STAGES],
    /// `rdtsc`s taken for this fault (for the overhead estimate).
    reads: u64,
}

impl StageClock {
    /// Starts at `now`; the time since `entry_tsc` is the entry stage (an
    /// entry time of 0 or after `now` means unknown: the entry stage is 0).
    fn start(entry_tsc: u64, now: u64, evict_total: u64) -> StageClock {
        let entry = if entry_tsc == 0 || entry_tsc > now {
            now
        } else {
            entry_tsc
        };
        let mut stages = [0; N_STAGES];
        stages[Stage::Entry as usize] = now - entry;
        StageClock {
            entry,
            last: now,
            evict_seen: evict_total,
            stages,
            reads: 1,
        }
    }

    /// Ends `stage` at `now`: the time since the last mark goes to `stage`,
    /// except for the eviction spans recorded meanwhile, which go to
    /// [`Stage::Eviction`].
    fn mark(&mut self, stage: Stage, now: u64, evict_total: u64) {
        let delta = now.saturating_sub(self.last);
        let evicted = evict_total.wrapping_sub(self.evict_seen).min(delta);
        self.stages[Stage::Eviction as usize] += evicted;
        self.stages[stage as usize] += delta - evicted;
        self.last = self.last.max(now);
        self.evict_seen = evict_total;
        self.reads += 1;
    }

    /// Latency so far (the stages add up to it).
    fn latency(&self) -> u64 {
        self.last - self.entry
    }
}

/// Times one page fault; lives on the fault handler's stack.
pub struct FaultTimer {
    clock: Option<StageClock>,
}

impl FaultTimer {
    /// Starts timing a fault whose trap entered the kernel at `entry_tsc`
    /// (`rdtsc` at trap entry; 0 if unknown).
    #[inline]
    pub fn start(entry_tsc: u64) -> FaultTimer {
        if !enabled() {
            return FaultTimer { clock: None };
        }
        FaultTimer {
            clock: Some(StageClock::start(entry_tsc, arch::rdtsc(), evict_total())),
        }
    }

    /// Marks the end of `stage` now.
    #[inline]
    pub fn stage(&mut self, stage: Stage) {
        if let Some(c) = &mut self.clock {
            c.mark(stage, arch::rdtsc(), evict_total());
        }
    }

    /// Ends the handler: the time since the last [`FaultTimer::stage`] counts
    /// as [`Stage::Map`]; records the fault of `kind` at `va` for process `pid`.
    #[inline]
    pub fn finish(self, kind: FaultKind, pid: u32, va: u64) {
        if let Some(mut c) = self.clock {
            c.mark(Stage::Map, arch::rdtsc(), evict_total());
            commit(|r, b| r.fault(b, &c, kind, pid, va), c.reads);
        }
    }
}

/// Records a span of kernel work (eviction, swap or file I/O) from
/// `start_tsc` to `end_tsc`, done for process `pid` on the page at `va`.
#[inline]
pub fn span(kind: SpanKind, pid: u32, va: u64, start_tsc: u64, end_tsc: u64) {
    if enabled() {
        commit(|r, b| r.span(b, kind, pid, va, start_tsc, end_tsc), 0);
    }
}

/// Tells the recorder which process runs from now on (call on every context
/// switch; kernel threads pass pid 0 and their thread name). `name` is the
/// executable's file name, which the flamegraph loads symbols from.
#[inline]
pub fn set_current(pid: u32, name: &[u8]) {
    if enabled() {
        commit(|r, b| r.set_current(b, pid, name, arch::rdtsc()), 1);
    }
}

/// Call on the trap path just before returning to the interrupted code: adds
/// the [`Stage::Return`] cycles to the fault finished last on this path.
#[inline]
pub fn trap_exit() {
    if enabled() {
        commit(|r, b| r.trap_exit(b, arch::rdtsc()), 1);
    }
}

/// Runs `f` on the recorder with interrupts off and charges its cycles plus
/// `reads` earlier `rdtsc`s to the overhead counter.
fn commit(f: impl FnOnce(&mut Recorder, &mut ProfileBuf), reads: u64) {
    let t0 = arch::rdtsc();
    let mut guard = RECORDER.lock();
    let Some(r) = guard.as_mut() else {
        return;
    };
    // SAFETY: `install`'s contract: the buffer is ours for good; the lock (with
    // interrupts off, single CPU) makes this the only reference.
    let b = unsafe { &mut *r.buf };
    f(r, b);
    let spent = arch::rdtsc().wrapping_sub(t0) + (reads + 1) * RDTSC_CYCLES.load(Ordering::Relaxed);
    b.header.overhead_cycles = b.header.overhead_cycles.wrapping_add(spent);
}

/// A finished fault that may still get its return cycles.
#[derive(Clone, Copy, Debug)]
struct Pending {
    seq: u64,
    kind: FaultKind,
    proc_slot: Option<usize>,
    pid: u32,
    end_tsc: u64,
    latency: u64,
}

/// The recorder's state besides the buffer.
struct Recorder {
    buf: *mut ProfileBuf,
    pending: Option<Pending>,
    /// Process-table slot used last (checked first).
    last_proc: usize,
}

// SAFETY: the buffer pointer is only dereferenced under RECORDER's lock.
unsafe impl Send for Recorder {}

impl Recorder {
    /// Records a finished fault.
    fn fault(&mut self, b: &mut ProfileBuf, c: &StageClock, kind: FaultKind, pid: u32, va: u64) {
        let latency = c.latency();
        let k = &mut b.kinds[kind as usize];
        k.latency.add(latency);
        for (sum, s) in k.stage_cycles.iter_mut().zip(c.stages) {
            *sum = sum.wrapping_add(s);
        }
        b.header.faults += 1;
        let proc_slot = self.proc_slot(b, pid, c.last);
        if let Some(i) = proc_slot {
            let p = &mut b.procs[i];
            p.faults[kind as usize] += 1;
            p.fault_cycles = p.fault_cycles.wrapping_add(latency);
        }
        let seq = push(
            b,
            Event {
                seq: 0,
                start_tsc: c.entry,
                end_tsc: c.last,
                va,
                stages: c.stages,
                pid,
                kind: EventKind::Fault as u32,
                sub: kind as u32,
                _pad: 0,
            },
        );
        self.pending = Some(Pending {
            seq,
            kind,
            proc_slot,
            pid,
            end_tsc: c.last,
            latency,
        });
    }

    /// Records a span.
    fn span(
        &mut self,
        b: &mut ProfileBuf,
        kind: SpanKind,
        pid: u32,
        va: u64,
        start: u64,
        end: u64,
    ) {
        let end = end.max(start);
        let cycles = end - start;
        b.span_kinds[kind as usize].add(cycles);
        b.header.spans += 1;
        if kind == SpanKind::Evict {
            EVICT_CYCLES.fetch_add(cycles, Ordering::Relaxed);
        }
        push(
            b,
            Event {
                seq: 0,
                start_tsc: start,
                end_tsc: end,
                va,
                stages: [0; N_STAGES],
                pid,
                kind: EventKind::Span as u32,
                sub: kind as u32,
                _pad: 0,
            },
        );
    }

    /// Adds the return stage (from the fault's end to `now`) to the pending fault.
    fn trap_exit(&mut self, b: &mut ProfileBuf, now: u64) {
        let Some(p) = self.pending.take() else {
            return;
        };
        let ret = now.saturating_sub(p.end_tsc);
        let k = &mut b.kinds[p.kind as usize];
        k.latency.amend(p.latency, p.latency + ret);
        k.stage_cycles[Stage::Return as usize] += ret;
        if let Some(i) = p.proc_slot
            && b.procs[i].pid == p.pid
        {
            b.procs[i].fault_cycles += ret;
        }
        let slot = &mut b.ring[(p.seq.wrapping_sub(1) as usize) % RING_LEN];
        if slot.seq == p.seq {
            slot.stages[Stage::Return as usize] += ret;
            slot.end_tsc = now.max(slot.end_tsc);
        }
    }

    /// Publishes the running process; a fault still waiting for its return
    /// keeps a return stage of 0 (its thread was switched away from, so what
    /// follows is not its return path).
    fn set_current(&mut self, b: &mut ProfileBuf, pid: u32, name: &[u8], now: u64) {
        self.pending = None;
        let cur = &raw mut b.current;
        // SAFETY: `cur` points into the buffer; a sequence lock with volatile
        // writes, because the VMM may read it whenever the vCPU is stopped.
        unsafe {
            let generation = (*cur).generation;
            core::ptr::write_volatile(&raw mut (*cur).generation, generation.wrapping_add(1));
            compiler_fence(Ordering::SeqCst);
            core::ptr::write_volatile(&raw mut (*cur).pid, pid);
            core::ptr::write_volatile(&raw mut (*cur).name, name_field(name));
            compiler_fence(Ordering::SeqCst);
            core::ptr::write_volatile(&raw mut (*cur).generation, generation.wrapping_add(2));
        }
        if let Some(i) = self.proc_slot(b, pid, now) {
            b.procs[i].name = name_field(name);
        }
    }

    /// The process-table slot of `pid` (taken or recycled if needed); `None`
    /// for pid 0 (kernel threads).
    fn proc_slot(&mut self, b: &mut ProfileBuf, pid: u32, now: u64) -> Option<usize> {
        if pid == 0 {
            return None;
        }
        let i = if b.procs[self.last_proc].pid == pid {
            self.last_proc
        } else if let Some(i) = b.procs.iter().position(|p| p.pid == pid) {
            i
        } else {
            let i = match b.procs.iter().position(|p| p.pid == 0) {
                Some(free) => free,
                None => {
                    b.header.procs_recycled += 1;
                    (0..MAX_PROCS).min_by_key(|&i| b.procs[i].last_tsc)?
                }
            };
            let name = if b.current.pid == pid {
                b.current.name
            } else {
                [0; abi::profile::NAME_LEN]
            };
            b.procs[i] = abi::profile::ProcStats {
                pid,
                name,
                ..Default::default()
            };
            i
        };
        b.procs[i].last_tsc = now;
        self.last_proc = i;
        Some(i)
    }
}

/// Appends `ev` to the ring (protocol in `abi::profile`); returns its number.
fn push(b: &mut ProfileBuf, ev: Event) -> u64 {
    let seq = b.header.events.wrapping_add(1);
    let slot: *mut Event = &mut b.ring[(seq.wrapping_sub(1) as usize) % RING_LEN];
    // SAFETY: `slot` and the header point into the buffer; volatile writes in
    // this order so a concurrent reader never accepts a half-written slot.
    unsafe {
        core::ptr::write_volatile(&raw mut (*slot).seq, 0);
        compiler_fence(Ordering::SeqCst);
        core::ptr::write_volatile(slot, Event { seq: 0, ..ev });
        compiler_fence(Ordering::SeqCst);
        core::ptr::write_volatile(&raw mut (*slot).seq, seq);
        compiler_fence(Ordering::SeqCst);
        core::ptr::write_volatile(&raw mut b.header.events, seq);
    }
    seq
}

#[cfg(test)]
mod tests {
    use super::*;
    use abi::profile::{NAME_LEN, bucket, name_bytes};
    use alloc::boxed::Box;

    /// A zeroed buffer on the heap (it is too big for a test thread's stack).
    fn new_buf() -> Box<ProfileBuf> {
        let layout = core::alloc::Layout::new::<ProfileBuf>();
        // SAFETY: the layout is non-zero-sized; all-zero bytes are a valid
        // ProfileBuf; the pointer came from the global allocator with this layout.
        unsafe {
            let p = alloc::alloc::alloc_zeroed(layout) as *mut ProfileBuf;
            assert!(!p.is_null());
            Box::from_raw(p)
        }
    }

    fn recorder(b: &mut ProfileBuf) -> Recorder {
        Recorder {
            buf: b,
            pending: None,
            last_proc: 0,
        }
    }

    #[test]
    fn stages_add_up_and_evictions_are_moved_out() {
        let mut c = StageClock::start(1000, 1100, 0);
        c.mark(Stage::LockWait, 1120, 0);
        c.mark(Stage::Lookup, 1150, 0);
        // An eviction of 300 cycles happened during the frame allocation.
        c.mark(Stage::FrameAlloc, 1600, 300);
        c.mark(Stage::Fill, 2000, 300);
        c.mark(Stage::Map, 2010, 300);
        assert_eq!(c.stages, [100, 20, 30, 150, 300, 400, 10, 0]);
        assert_eq!(c.stages.iter().sum::<u64>(), c.latency());
        assert_eq!(c.latency(), 1010);
        // Unknown entry time: the entry stage is empty.
        let c = StageClock::start(0, 500, 7);
        assert_eq!(c.stages[Stage::Entry as usize], 0);
        assert_eq!(c.entry, 500);
        let c = StageClock::start(600, 500, 7);
        assert_eq!(c.latency(), 0);
    }

    #[test]
    fn faults_fill_stats_ring_and_process_table() {
        let mut b = new_buf();
        let mut r = recorder(&mut b);
        r.set_current(&mut b, 7, b"page-linear", 10);
        assert_eq!(b.current.pid, 7);
        assert_eq!(b.current.generation, 2);
        assert_eq!(name_bytes(&b.current.name), b"page-linear");
        let mut c = StageClock::start(1000, 1100, 0);
        c.mark(Stage::Map, 1500, 0);
        r.fault(&mut b, &c, FaultKind::LazyAnon, 7, 0x1234_5000);
        r.trap_exit(&mut b, 1600);
        // A second trap exit has nothing pending.
        r.trap_exit(&mut b, 9999);
        let k = &b.kinds[FaultKind::LazyAnon as usize];
        assert_eq!(k.latency.count, 1);
        assert_eq!(k.latency.total_cycles, 600);
        assert_eq!(k.latency.max_cycles, 600);
        assert_eq!(k.latency.hist[bucket(600)], 1);
        assert_eq!(k.latency.hist[bucket(500)], 0);
        assert_eq!(k.stage_cycles[Stage::Return as usize], 100);
        assert_eq!(b.header.faults, 1);
        assert_eq!(b.header.events, 1);
        let ev = b.ring[0];
        assert_eq!(ev.seq, 1);
        assert_eq!(ev.kind, EventKind::Fault as u32);
        assert_eq!(ev.sub, FaultKind::LazyAnon as u32);
        assert_eq!((ev.start_tsc, ev.end_tsc), (1000, 1600));
        assert_eq!(ev.stages.iter().sum::<u64>(), 600);
        assert_eq!(ev.va, 0x1234_5000);
        let p = b.procs.iter().find(|p| p.pid == 7).unwrap();
        assert_eq!(name_bytes(&p.name), b"page-linear");
        assert_eq!(p.faults[FaultKind::LazyAnon as usize], 1);
        assert_eq!(p.fault_cycles, 600);
    }

    #[test]
    fn a_switch_drops_the_pending_return() {
        let mut b = new_buf();
        let mut r = recorder(&mut b);
        let mut c = StageClock::start(100, 100, 0);
        c.mark(Stage::Map, 200, 0);
        r.fault(&mut b, &c, FaultKind::Invalid, 3, 0);
        r.set_current(&mut b, 0, b"idle", 5000);
        r.trap_exit(&mut b, 6000);
        let k = &b.kinds[FaultKind::Invalid as usize];
        assert_eq!(k.latency.total_cycles, 100);
        assert_eq!(b.ring[0].end_tsc, 200);
        // pid 0 takes no process slot.
        assert_eq!(b.procs.iter().filter(|p| p.pid != 0).count(), 1);
    }

    #[test]
    fn the_ring_wraps_and_spans_count() {
        let mut b = new_buf();
        let mut r = recorder(&mut b);
        let n = RING_LEN as u64 + 10;
        for i in 0..n {
            r.span(&mut b, SpanKind::SwapWrite, 1, i << 12, i * 10, i * 10 + 5);
        }
        assert_eq!(b.header.events, n);
        assert_eq!(b.header.spans, n);
        let l = &b.span_kinds[SpanKind::SwapWrite as usize];
        assert_eq!(l.count, n);
        assert_eq!(l.total_cycles, 5 * n);
        // The oldest slots now hold the newest events.
        assert_eq!(b.ring[0].seq, RING_LEN as u64 + 1);
        assert_eq!(b.ring[9].seq, n);
        assert_eq!(b.ring[10].seq, 11);
        assert_eq!(b.ring[9].va, (n - 1) << 12);
        // An end before the start is clamped.
        r.span(&mut b, SpanKind::FileRead, 1, 0, 50, 40);
        assert_eq!(b.span_kinds[SpanKind::FileRead as usize].total_cycles, 0);
    }

    #[test]
    fn the_process_table_recycles_the_least_recent_slot() {
        let mut b = new_buf();
        let mut r = recorder(&mut b);
        for pid in 1..=MAX_PROCS as u32 {
            r.set_current(&mut b, pid, b"p", u64::from(pid) * 100);
        }
        assert_eq!(b.header.procs_recycled, 0);
        // Touch pid 1 so that pid 2 becomes the least recent.
        r.set_current(&mut b, 1, b"p", 1_000_000);
        r.set_current(&mut b, 999, b"newcomer", 2_000_000);
        assert_eq!(b.header.procs_recycled, 1);
        assert!(b.procs.iter().any(|p| p.pid == 1));
        assert!(!b.procs.iter().any(|p| p.pid == 2));
        let p = b.procs.iter().find(|p| p.pid == 999).unwrap();
        assert_eq!(name_bytes(&p.name), b"newcomer");
        assert_eq!(p.faults, [0; abi::profile::N_KINDS]);
        // Long names are cut to the field.
        r.set_current(&mut b, 5, &[b'x'; 40], 3_000_000);
        assert_eq!(name_bytes(&b.current.name).len(), NAME_LEN);
    }

    #[test]
    fn the_global_recorder_is_off_until_installed_then_records() {
        // Off: nothing happens and nothing is touched.
        FaultTimer::start(1).finish(FaultKind::LazyAnon, 1, 0);
        trap_exit();
        assert!(!enabled());
        let mut b = new_buf();
        // SAFETY: the buffer is leaked below, so it outlives the recorder.
        unsafe { install(&mut *b, 2_445_000) };
        let b = Box::leak(b);
        assert!(enabled());
        set_current(4, b"swap-iter");
        let entry = arch::rdtsc();
        let mut t = FaultTimer::start(entry);
        t.stage(Stage::Lookup);
        let s0 = arch::rdtsc();
        span(SpanKind::Evict, 4, 0x5000, s0, s0 + 1000);
        t.stage(Stage::FrameAlloc);
        t.finish(FaultKind::SwapIn, 4, 0x7000);
        trap_exit();
        // SAFETY: the recorder is idle; reading the leaked buffer.
        let b: &ProfileBuf = unsafe { &*(b as *const ProfileBuf) };
        assert_eq!(b.header.magic, PROFILE_MAGIC);
        assert_eq!(b.header.version, PROFILE_VERSION);
        assert_eq!(b.header.tsc_khz, 2_445_000);
        assert_eq!(b.header.size, ProfileBuf::SIZE as u64);
        assert_eq!(b.header.faults, 1);
        assert_eq!(b.header.spans, 1);
        assert_eq!(b.header.events, 2);
        assert!(b.header.overhead_cycles > 0);
        let ev = b.ring[1];
        assert_eq!(ev.kind, EventKind::Fault as u32);
        assert_eq!(ev.start_tsc, entry);
        assert_eq!(ev.stages.iter().sum::<u64>(), ev.end_tsc - ev.start_tsc);
        assert!(ev.stages[Stage::Eviction as usize] <= 1000);
        assert_eq!(b.kinds[FaultKind::SwapIn as usize].latency.count, 1);
        assert_eq!(name_bytes(&b.current.name), b"swap-iter");
    }
}
