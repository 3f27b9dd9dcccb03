//! The fault-profile buffer: what the kernel records about page faults and
//! what the VMM reads back after (and during) a run.
//!
//! When profiling is requested (`--profile`, `--trace`, `--flamegraph`) the VMM
//! reserves [`ProfileBuf::SIZE`] bytes of guest RAM (page-aligned, above the
//! kernel image), zeroes them and passes their guest-physical address and
//! length in `BootInfo::profile_buf/profile_len`. The kernel checks the length,
//! fills in the [`Header`] (magic last) and from then on records:
//!
//! - per fault kind ([`FaultKind`]): count, total and largest latency, the
//!   cycles of each stage ([`Stage`]) and a log-scale latency histogram
//!   ([`bucket`]);
//! - per span kind ([`SpanKind`]: evictions, swap and file I/O): count, total,
//!   largest and a histogram;
//! - per process ([`ProcStats`], [`MAX_PROCS`] slots, least recently used
//!   recycled): faults by kind and their cycles;
//! - a ring of the newest [`RING_LEN`] events ([`Event`]);
//! - the current process ([`Current`]), updated on every context switch.
//!
//! Every field is a plain `u64`, `u32` or byte array laid out without implicit
//! padding, so any bit pattern is a valid value and the VMM can copy the block
//! out of guest memory as bytes. Enum-valued fields hold the discriminant as a
//! `u32`; use the `from_u32` constructors to decode them.
//!
//! Ring protocol: event number `n` (1-based) lives in slot `(n - 1) % RING_LEN`.
//! The kernel clears the slot's `seq`, writes the other fields, then stores
//! `seq = n` and finally `Header::events = n`. A reader accepts a slot only if
//! `seq` is the number it expects both before and after copying the fields.
//! The newest fault event may still be amended with its return stage (see
//! [`Stage::Return`]), so a reader that runs while the guest runs leaves the
//! newest event for its final read.

/// `Header::magic`.
pub const PROFILE_MAGIC: u64 = 0x3166_6f72_7074_6c66; // "fltprof1"
/// `Header::version`: bumped on every layout change.
pub const PROFILE_VERSION: u32 = 2;

/// Number of [`FaultKind`]s.
pub const N_KINDS: usize = 6;
/// Number of [`Stage`]s.
pub const N_STAGES: usize = 8;
/// Number of [`SpanKind`]s.
pub const N_SPAN_KINDS: usize = 5;
/// Linear sub-buckets per power of two in the latency histograms.
pub const HIST_SUB: usize = 4;
/// Buckets of a latency histogram (powers of two up to 2^40 cycles).
pub const HIST_BUCKETS: usize = 160;
/// Slots of the per-process table.
pub const MAX_PROCS: usize = 64;
/// Slots of the event ring (a power of two).
pub const RING_LEN: usize = 4096;
/// Bytes of a process name (NUL-padded).
pub const NAME_LEN: usize = 16;

/// What kind of page fault was handled.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FaultKind {
    /// First touch of an uninitialised anonymous page: zero fill.
    LazyAnon = 0,
    /// First touch of a file-backed page: ELF segment or mmap read.
    LazyFile = 1,
    /// A page that was evicted to swap is read back.
    SwapIn = 2,
    /// A new stack page below the stack pointer.
    StackGrowth = 3,
    /// A write to a page shared copy-on-write (reserved).
    CopyOnWrite = 4,
    /// A fault the kernel could not resolve (the process is killed).
    Invalid = 5,
}

impl FaultKind {
    /// Every kind, in discriminant order.
    pub const ALL: [FaultKind; N_KINDS] = [
        FaultKind::LazyAnon,
        FaultKind::LazyFile,
        FaultKind::SwapIn,
        FaultKind::StackGrowth,
        FaultKind::CopyOnWrite,
        FaultKind::Invalid,
    ];

    /// The kind with discriminant `v`.
    pub fn from_u32(v: u32) -> Option<FaultKind> {
        FaultKind::ALL.get(v as usize).copied()
    }

    /// Short name for reports and traces.
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::LazyAnon => "lazy-anon",
            FaultKind::LazyFile => "lazy-file",
            FaultKind::SwapIn => "swap-in",
            FaultKind::StackGrowth => "stack-growth",
            FaultKind::CopyOnWrite => "copy-on-write",
            FaultKind::Invalid => "invalid",
        }
    }
}

/// The stages of a fault, in the order they happen. The stage cycles of one
/// fault add up to its latency (trap entry to the return to the faulting code).
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Stage {
    /// Trap entry to the start of the fault handler.
    Entry = 0,
    /// Waiting for the VM lock (another process's fault, eviction or
    /// paging I/O holds it).
    LockWait = 1,
    /// Finding what belongs at the address: the supplemental page table, the
    /// region, the stack rule, and the new page's table entry.
    Lookup = 2,
    /// Getting a frame, not counting eviction.
    FrameAlloc = 3,
    /// Victim selection and write-out when no frame was free.
    Eviction = 4,
    /// Filling the frame: zero fill, file read, swap read or the copy of a
    /// copy-on-write page.
    Fill = 5,
    /// Writing the page-table entry (and any TLB flush it needs).
    Map = 6,
    /// Handler end to the trap-return path (as far as the kernel can see).
    Return = 7,
}

impl Stage {
    /// Every stage, in order.
    pub const ALL: [Stage; N_STAGES] = [
        Stage::Entry,
        Stage::LockWait,
        Stage::Lookup,
        Stage::FrameAlloc,
        Stage::Eviction,
        Stage::Fill,
        Stage::Map,
        Stage::Return,
    ];

    /// The stage with discriminant `v`.
    pub fn from_u32(v: u32) -> Option<Stage> {
        Stage::ALL.get(v as usize).copied()
    }

    /// Short name for reports and traces.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Entry => "entry",
            Stage::LockWait => "lock-wait",
            Stage::Lookup => "lookup",
            Stage::FrameAlloc => "frame-alloc",
            Stage::Eviction => "eviction",
            Stage::Fill => "fill",
            Stage::Map => "map",
            Stage::Return => "return",
        }
    }
}

/// Kernel work timed as one span outside the fault stages.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SpanKind {
    /// Choosing a victim frame and writing it out.
    Evict = 0,
    /// Reading a page from the swap disk.
    SwapRead = 1,
    /// Writing a page to the swap disk.
    SwapWrite = 2,
    /// Reading a page of a file (lazy load, mmap).
    FileRead = 3,
    /// Writing a page back to a file (mmap write-back).
    FileWrite = 4,
}

impl SpanKind {
    /// Every span kind, in discriminant order.
    pub const ALL: [SpanKind; N_SPAN_KINDS] = [
        SpanKind::Evict,
        SpanKind::SwapRead,
        SpanKind::SwapWrite,
        SpanKind::FileRead,
        SpanKind::FileWrite,
    ];

    /// The span kind with discriminant `v`.
    pub fn from_u32(v: u32) -> Option<SpanKind> {
        SpanKind::ALL.get(v as usize).copied()
    }

    /// Short name for reports and traces.
    pub fn name(self) -> &'static str {
        match self {
            SpanKind::Evict => "evict",
            SpanKind::SwapRead => "swap-read",
            SpanKind::SwapWrite => "swap-write",
            SpanKind::FileRead => "file-read",
            SpanKind::FileWrite => "file-write",
        }
    }
}

/// `Event::kind`.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// A page fault; `Event::sub` is a [`FaultKind`].
    Fault = 1,
    /// A span; `Event::sub` is a [`SpanKind`].
    Span = 2,
}

impl EventKind {
    /// The event kind with discriminant `v` (0 is an empty slot).
    pub fn from_u32(v: u32) -> Option<EventKind> {
        match v {
            1 => Some(EventKind::Fault),
            2 => Some(EventKind::Span),
            _ => None,
        }
    }
}

/// The start of the buffer.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Header {
    /// [`PROFILE_MAGIC`] once the kernel has initialised the buffer.
    pub magic: u64,
    /// [`PROFILE_VERSION`].
    pub version: u32,
    /// 1 while the kernel records.
    pub enabled: u32,
    /// Bytes of the buffer the kernel uses (`size_of::<ProfileBuf>()`).
    pub size: u64,
    /// TSC frequency in kHz (from `BootInfo`), to turn cycles into time.
    pub tsc_khz: u64,
    /// TSC when the kernel initialised the buffer.
    pub start_tsc: u64,
    /// Faults recorded.
    pub faults: u64,
    /// Spans recorded.
    pub spans: u64,
    /// Events ever written to the ring (the number of the newest event).
    pub events: u64,
    /// Process-table slots taken over from another process.
    pub procs_recycled: u64,
    /// Cycles the recorder itself spent (commits plus its `rdtsc`s), to report
    /// the cost of profiling.
    pub overhead_cycles: u64,
    /// Cycles of one `rdtsc` as measured at initialisation.
    pub rdtsc_cycles: u64,
}

/// The process running now, for the host's sampler.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Current {
    /// Odd while the kernel updates this record (a sequence lock).
    pub generation: u32,
    /// Process id (0 = a kernel thread).
    pub pid: u32,
    /// The executable's file name (NUL-padded).
    pub name: [u8; NAME_LEN],
}

/// Count, latency sum, largest latency and histogram of one kind of timed work.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Latency {
    /// How many were timed.
    pub count: u64,
    /// Their latencies' sum, in TSC cycles.
    pub total_cycles: u64,
    /// The largest latency, in TSC cycles.
    pub max_cycles: u64,
    /// Counts by [`bucket`] of the latency in cycles.
    pub hist: [u64; HIST_BUCKETS],
}

impl Latency {
    /// No samples.
    pub const ZERO: Latency = Latency {
        count: 0,
        total_cycles: 0,
        max_cycles: 0,
        hist: [0; HIST_BUCKETS],
    };

    /// Adds one sample of `cycles`.
    pub fn add(&mut self, cycles: u64) {
        self.count += 1;
        self.total_cycles = self.total_cycles.wrapping_add(cycles);
        self.max_cycles = self.max_cycles.max(cycles);
        self.hist[bucket(cycles)] += 1;
    }

    /// Changes one earlier sample of `old` cycles into `new` cycles.
    pub fn amend(&mut self, old: u64, new: u64) {
        let (b_old, b_new) = (bucket(old), bucket(new));
        if self.hist[b_old] > 0 {
            self.hist[b_old] -= 1;
            self.hist[b_new] += 1;
        }
        self.total_cycles = self.total_cycles.wrapping_sub(old).wrapping_add(new);
        self.max_cycles = self.max_cycles.max(new);
    }

    /// The `q`-quantile (0.0..=1.0) in cycles at bucket resolution: the
    /// sample of that rank is placed by linear interpolation inside its
    /// bucket, and the result never exceeds `max_cycles`. `None` without samples.
    pub fn quantile(&self, q: f64) -> Option<u64> {
        let total: u64 = self.hist.iter().sum();
        if total == 0 {
            return None;
        }
        let q = if q.is_nan() { 0.0 } else { q.clamp(0.0, 1.0) };
        // Rank of the wanted sample, 1-based.
        let x = q * total as f64;
        let mut rank = x as u64;
        if (rank as f64) < x {
            rank += 1;
        }
        let rank = rank.clamp(1, total);
        let mut seen = 0;
        for (i, &n) in self.hist.iter().enumerate() {
            if n == 0 {
                continue;
            }
            if seen + n >= rank {
                let (lo, hi) = bucket_bounds(i);
                let frac = (rank - seen) as f64 / n as f64;
                let v = lo as f64 + frac * (hi - lo) as f64;
                return Some((v as u64).min(self.max_cycles.max(lo)));
            }
            seen += n;
        }
        Some(self.max_cycles)
    }
}

/// Everything recorded about one fault kind.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KindStats {
    /// Latency from trap entry to return.
    pub latency: Latency,
    /// Cycles of each [`Stage`], summed over the faults of this kind.
    pub stage_cycles: [u64; N_STAGES],
}

impl KindStats {
    /// Nothing recorded yet.
    pub const ZERO: KindStats = KindStats {
        latency: Latency::ZERO,
        stage_cycles: [0; N_STAGES],
    };
}

/// One slot of the per-process table.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProcStats {
    /// Process id; 0 marks a free slot.
    pub pid: u32,
    /// Zero; aligns `name` and the counters after it.
    pub _pad: u32,
    /// The executable's file name (NUL-padded).
    pub name: [u8; NAME_LEN],
    /// Faults by [`FaultKind`].
    pub faults: [u64; N_KINDS],
    /// Cycles spent in this process's faults.
    pub fault_cycles: u64,
    /// TSC of the last use of this slot (the least recent one is recycled).
    pub last_tsc: u64,
}

/// One entry of the event ring.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Event {
    /// The event's number (1-based); 0 while the slot is being written.
    pub seq: u64,
    /// TSC at the start (for faults: trap entry).
    pub start_tsc: u64,
    /// TSC at the end (for faults: the return path).
    pub end_tsc: u64,
    /// The faulting address, or the page a span worked on (0 if none).
    pub va: u64,
    /// Cycles of each [`Stage`] (faults only; they add up to `end - start`).
    pub stages: [u64; N_STAGES],
    /// The process the event happened in (0 = a kernel thread).
    pub pid: u32,
    /// [`EventKind`].
    pub kind: u32,
    /// [`FaultKind`] or [`SpanKind`], by `kind`.
    pub sub: u32,
    /// Zero; pads the entry to a multiple of 8 bytes.
    pub _pad: u32,
}

/// The whole buffer.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct ProfileBuf {
    /// Format marks and the totals the VMM checks first.
    pub header: Header,
    /// The process running now (the VMM's sampler attributes samples to it).
    pub current: Current,
    /// Faults by [`FaultKind`].
    pub kinds: [KindStats; N_KINDS],
    /// Timed kernel work other than faults, by [`SpanKind`].
    pub span_kinds: [Latency; N_SPAN_KINDS],
    /// Per-process fault counts, a slot per recent process.
    pub procs: [ProcStats; MAX_PROCS],
    /// The most recent events, oldest overwritten first.
    pub ring: [Event; RING_LEN],
}

impl ProfileBuf {
    /// Bytes of the buffer.
    pub const SIZE: usize = core::mem::size_of::<ProfileBuf>();
    /// Bytes the VMM reserves: [`ProfileBuf::SIZE`] rounded up to whole pages.
    pub const RESERVED: u64 =
        (ProfileBuf::SIZE as u64).div_ceil(crate::layout::PAGE_SIZE) * crate::layout::PAGE_SIZE;
    /// Byte offset of the ring slot that holds event number `seq` (1-based).
    pub const fn slot_offset(seq: u64) -> usize {
        core::mem::offset_of!(ProfileBuf, ring)
            + ((seq.wrapping_sub(1) as usize) % RING_LEN) * core::mem::size_of::<Event>()
    }
    /// Byte offset of `Header::events`.
    pub const EVENTS_OFFSET: usize =
        core::mem::offset_of!(ProfileBuf, header) + core::mem::offset_of!(Header, events);
}

/// The histogram bucket of a latency of `cycles`: values below 4 have a bucket
/// each; above, every power of two `[2^e, 2^(e+1))` is split into
/// [`HIST_SUB`] equal parts; everything from 2^40 up shares the last bucket.
pub const fn bucket(cycles: u64) -> usize {
    if cycles < HIST_SUB as u64 {
        return cycles as usize;
    }
    let e = 63 - cycles.leading_zeros() as usize; // >= 2
    let sub = ((cycles >> (e - 2)) & 3) as usize;
    let i = (e - 1) * HIST_SUB + sub;
    if i < HIST_BUCKETS {
        i
    } else {
        HIST_BUCKETS - 1
    }
}

/// The range `[lo, hi)` of latencies in bucket `i` (the last bucket's `hi` is
/// where it starts plus one sub-bucket; it also holds everything above).
pub const fn bucket_bounds(i: usize) -> (u64, u64) {
    if i < HIST_SUB {
        return (i as u64, i as u64 + 1);
    }
    let e = i / HIST_SUB + 1;
    let sub = (i % HIST_SUB) as u64;
    ((4 + sub) << (e - 2), (5 + sub) << (e - 2))
}

/// Copies a name into a NUL-padded field (truncated to [`NAME_LEN`] bytes).
pub fn name_field(name: &[u8]) -> [u8; NAME_LEN] {
    let mut out = [0u8; NAME_LEN];
    let n = name
        .iter()
        .position(|&b| b == 0)
        .unwrap_or(name.len())
        .min(NAME_LEN);
    out[..n].copy_from_slice(&name[..n]);
    out
}

/// The bytes of a NUL-padded name field, up to the first NUL.
pub fn name_bytes(field: &[u8; NAME_LEN]) -> &[u8] {
    let n = field.iter().position(|&b| b == 0).unwrap_or(NAME_LEN);
    &field[..n]
}

// The layout is part of the contract: no implicit padding anywhere.
const _: () = {
    use core::mem::{offset_of, size_of};
    assert!(size_of::<Header>() == 88);
    assert!(size_of::<Current>() == 24);
    assert!(size_of::<Latency>() == 24 + 8 * HIST_BUCKETS);
    assert!(size_of::<KindStats>() == size_of::<Latency>() + 8 * N_STAGES);
    assert!(size_of::<ProcStats>() == 24 + 8 * N_KINDS + 16);
    assert!(size_of::<Event>() == 32 + 8 * N_STAGES + 16);
    assert!(offset_of!(Event, pid) == 32 + 8 * N_STAGES);
    assert!(offset_of!(ProfileBuf, current) == size_of::<Header>());
    assert!(offset_of!(ProfileBuf, kinds) == 112);
    assert!(
        offset_of!(ProfileBuf, span_kinds)
            == offset_of!(ProfileBuf, kinds) + N_KINDS * size_of::<KindStats>()
    );
    assert!(
        offset_of!(ProfileBuf, procs)
            == offset_of!(ProfileBuf, span_kinds) + N_SPAN_KINDS * size_of::<Latency>()
    );
    assert!(
        offset_of!(ProfileBuf, ring)
            == offset_of!(ProfileBuf, procs) + MAX_PROCS * size_of::<ProcStats>()
    );
    assert!(ProfileBuf::SIZE == offset_of!(ProfileBuf, ring) + RING_LEN * size_of::<Event>());
    assert!(ProfileBuf::SIZE.is_multiple_of(8));
    assert!(RING_LEN.is_power_of_two());
    assert!(bucket(u64::MAX) == HIST_BUCKETS - 1);
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_contiguous_and_monotonic() {
        let mut prev_hi = 0;
        for i in 0..HIST_BUCKETS {
            let (lo, hi) = bucket_bounds(i);
            assert_eq!(
                lo,
                prev_hi,
                "bucket {i} starts where {} ends",
                i.wrapping_sub(1)
            );
            assert!(hi > lo);
            assert_eq!(bucket(lo), i);
            assert_eq!(bucket(hi - 1), i);
            prev_hi = hi;
        }
        assert_eq!(bucket(0), 0);
        assert_eq!(bucket(3), 3);
        assert_eq!(bucket(4), 4);
        assert_eq!(bucket(7), 7);
        assert_eq!(bucket(8), 8);
        assert_eq!(bucket(9), 8);
        assert_eq!(bucket(10), 9);
        assert_eq!(bucket(1 << 20), bucket(1 << 20 | 1));
        assert_eq!(bucket(1 << 41), HIST_BUCKETS - 1);
        // Resolution: a bucket is at most a quarter of its lower bound wide.
        for i in HIST_SUB..HIST_BUCKETS {
            let (lo, hi) = bucket_bounds(i);
            assert!((hi - lo) * 4 <= lo, "bucket {i}: {lo}..{hi}");
        }
    }

    #[test]
    fn quantiles_come_from_the_histogram() {
        let mut l = Latency::ZERO;
        assert_eq!(l.quantile(0.5), None);
        for c in 1000..2000 {
            l.add(c);
        }
        assert_eq!(l.count, 1000);
        assert_eq!(l.max_cycles, 1999);
        let p50 = l.quantile(0.5).unwrap();
        assert!((1400..=1600).contains(&p50), "p50 {p50}");
        let p99 = l.quantile(0.99).unwrap();
        assert!((1900..=1999).contains(&p99), "p99 {p99}");
        assert_eq!(l.quantile(1.0), Some(1999));
        let p0 = l.quantile(0.0).unwrap();
        assert!((896..=1024).contains(&p0), "p0 {p0}");
    }

    #[test]
    fn amend_moves_a_sample() {
        let mut l = Latency::ZERO;
        l.add(100);
        l.add(5000);
        l.amend(100, 200);
        assert_eq!(l.count, 2);
        assert_eq!(l.total_cycles, 5200);
        assert_eq!(l.hist[bucket(100)], 0);
        assert_eq!(l.hist[bucket(200)], 1);
        l.amend(5000, 9000);
        assert_eq!(l.max_cycles, 9000);
    }

    #[test]
    fn enums_round_trip() {
        for k in FaultKind::ALL {
            assert_eq!(FaultKind::from_u32(k as u32), Some(k));
        }
        for s in Stage::ALL {
            assert_eq!(Stage::from_u32(s as u32), Some(s));
        }
        for s in SpanKind::ALL {
            assert_eq!(SpanKind::from_u32(s as u32), Some(s));
        }
        assert_eq!(FaultKind::from_u32(N_KINDS as u32), None);
        assert_eq!(EventKind::from_u32(0), None);
        assert_eq!(EventKind::from_u32(2), Some(EventKind::Span));
    }

    #[test]
    fn names_are_nul_padded() {
        let f = name_field(b"page-linear");
        assert_eq!(name_bytes(&f), b"page-linear");
        assert_eq!(name_bytes(&name_field(b"a\0b")), b"a");
        assert_eq!(
            name_bytes(&name_field(b"0123456789abcdefXYZ")),
            b"0123456789abcdef"
        );
    }

    #[test]
    fn slots_wrap() {
        let ring = core::mem::offset_of!(ProfileBuf, ring);
        let ev = core::mem::size_of::<Event>();
        assert_eq!(ProfileBuf::slot_offset(1), ring);
        assert_eq!(ProfileBuf::slot_offset(2), ring + ev);
        assert_eq!(ProfileBuf::slot_offset(RING_LEN as u64 + 1), ring);
        assert_eq!(ProfileBuf::RESERVED % 4096, 0);
        assert!(ProfileBuf::RESERVED as usize >= ProfileBuf::SIZE);
    }
}
