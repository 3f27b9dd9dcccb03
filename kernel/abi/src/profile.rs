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

mod histogram;
mod kinds;
mod layout;

pub use histogram::{Latency, bucket, bucket_bounds};
pub use kinds::{EventKind, FaultKind, SpanKind, Stage};
pub use layout::{
    Current, Event, Header, KindStats, ProcStats, ProfileBuf, name_bytes, name_field,
};

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
