//! The kinds the profile records, each a `u32` discriminant in the buffer:
//! fault kinds ([`FaultKind`]), the stages of a fault ([`Stage`]), the spans
//! timed outside the fault stages ([`SpanKind`]) and ring events
//! ([`EventKind`]).

use super::{N_KINDS, N_SPAN_KINDS, N_STAGES};

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
