//! The buffer's layout: the [`Header`], the current process ([`Current`]),
//! the per-kind, per-span and per-process records, the event ring, the whole
//! [`ProfileBuf`], and the NUL-padded name fields; with compile-time checks
//! that the layout has no implicit padding.

use super::{
    HIST_BUCKETS, Latency, MAX_PROCS, N_KINDS, N_SPAN_KINDS, N_STAGES, NAME_LEN, RING_LEN, bucket,
};

/// The start of the buffer.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Header {
    /// [`PROFILE_MAGIC`](super::PROFILE_MAGIC) once the kernel has initialised the buffer.
    pub magic: u64,
    /// [`PROFILE_VERSION`](super::PROFILE_VERSION).
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

/// Everything recorded about one fault kind.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KindStats {
    /// Latency from trap entry to return.
    pub latency: Latency,
    /// Cycles of each [`Stage`](super::Stage), summed over the faults of this kind.
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
    /// Faults by [`FaultKind`](super::FaultKind).
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
    /// Cycles of each [`Stage`](super::Stage) (faults only; they add up to `end - start`).
    pub stages: [u64; N_STAGES],
    /// The process the event happened in (0 = a kernel thread).
    pub pid: u32,
    /// [`EventKind`](super::EventKind).
    pub kind: u32,
    /// [`FaultKind`](super::FaultKind) or [`SpanKind`](super::SpanKind), by `kind`.
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
    /// Faults by [`FaultKind`](super::FaultKind).
    pub kinds: [KindStats; N_KINDS],
    /// Timed kernel work other than faults, by [`SpanKind`](super::SpanKind).
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
