//! The fault-profile buffer on the host side: reserving it in guest RAM,
//! copying it out after the run, and reading its event ring and its current
//! process while the guest runs (layout and protocol in `abi::profile`).

use std::mem::{offset_of, size_of};
use std::sync::atomic::Ordering;

use abi::profile::{
    Current, Event, EventKind, FaultKind, Header, PROFILE_MAGIC, PROFILE_VERSION, ProcStats,
    ProfileBuf, RING_LEN, SpanKind, name_bytes,
};
use anyhow::{Context, Result, bail, ensure};
use vm_memory::{Bytes, GuestAddress};

use crate::memory::GuestMem;

/// Guest RAM a run must keep for the kernel beyond the buffer.
const MIN_LEFT: u64 = 4 << 20;

/// Where the buffer lives in guest RAM.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Placement {
    /// Guest-physical address.
    pub addr: u64,
    /// Bytes reserved.
    pub len: u64,
}

/// Reserves the buffer at `free_start` (page-aligned, after the kernel image)
/// and zeroes it. Returns the placement and the new `free_start`.
pub fn reserve(mem: &GuestMem, free_start: u64, mem_size: u64) -> Result<(Placement, u64)> {
    let len = ProfileBuf::RESERVED;
    let end = free_start
        .checked_add(len)
        .context("profile buffer placement overflows")?;
    ensure!(
        end.saturating_add(MIN_LEFT) <= mem_size,
        "guest RAM too small for the {} KiB profile buffer (use a larger --mem)",
        len >> 10
    );
    let zeros = vec![0u8; len as usize];
    mem.write_slice(&zeros, GuestAddress(free_start))
        .context("clearing the profile buffer")?;
    Ok((
        Placement {
            addr: free_start,
            len,
        },
        end,
    ))
}

/// Types of the profile buffer whose every bit pattern is a valid value.
///
/// # Safety
/// Implementors must be `repr(C)` structs made only of integers and arrays of
/// integers (no padding requirements, no invalid values).
unsafe trait Plain: Copy {}
// SAFETY: abi::profile declares these `repr(C)` with u64/u32/u8 fields only.
unsafe impl Plain for Event {}
// SAFETY: abi::profile declares `Current` `repr(C)` with u32 and u8 fields
// only: every bit pattern is a value.
unsafe impl Plain for Current {}
// SAFETY: abi::profile declares `Header` `repr(C)` with u64 and u32 fields
// only: every bit pattern is a value.
unsafe impl Plain for Header {}

/// Reads a `T` at guest-physical `addr`.
fn read_plain<T: Plain>(mem: &GuestMem, addr: u64) -> Option<T> {
    let mut bytes = vec![0u8; size_of::<T>()];
    mem.read_slice(&mut bytes, GuestAddress(addr)).ok()?;
    // SAFETY: `bytes` holds size_of::<T>() bytes and every bit pattern is a
    // valid T (the Plain contract); read_unaligned copes with the alignment.
    Some(unsafe { std::ptr::read_unaligned(bytes.as_ptr().cast::<T>()) })
}

/// The buffer as copied out of the guest after the run.
pub struct Profile {
    buf: Box<ProfileBuf>,
}

impl Profile {
    /// Copies the buffer at `placement` out of guest memory. `Ok(None)` when
    /// the kernel never initialised it (a kernel without the recorder).
    pub fn read(mem: &GuestMem, placement: Placement) -> Result<Option<Profile>> {
        ensure!(
            placement.len >= ProfileBuf::SIZE as u64,
            "profile buffer too small"
        );
        let mut buf = zeroed_buf();
        // SAFETY: the slice covers exactly the Box's ProfileBuf, whose every
        // bit pattern is valid (only integers), so writing bytes into it is sound.
        let bytes = unsafe {
            std::slice::from_raw_parts_mut((&raw mut *buf).cast::<u8>(), ProfileBuf::SIZE)
        };
        mem.read_slice(bytes, GuestAddress(placement.addr))
            .context("reading the profile buffer")?;
        Profile::from_buf(buf)
    }

    /// Checks the header of a buffer.
    pub fn from_buf(buf: Box<ProfileBuf>) -> Result<Option<Profile>> {
        let h = &buf.header;
        if h.magic != PROFILE_MAGIC {
            return Ok(None);
        }
        if h.version != PROFILE_VERSION || h.size != ProfileBuf::SIZE as u64 {
            bail!(
                "the kernel's profile buffer has version {} and {} bytes; this VMM reads version {PROFILE_VERSION} of {} bytes (rebuild both)",
                h.version,
                h.size,
                ProfileBuf::SIZE
            );
        }
        Ok(Some(Profile { buf }))
    }

    /// The raw buffer.
    pub fn buf(&self) -> &ProfileBuf {
        &self.buf
    }

    /// The buffer's header: format marks and totals.
    pub fn header(&self) -> &Header {
        &self.buf.header
    }

    /// TSC frequency in kHz (never 0).
    pub fn tsc_khz(&self) -> u64 {
        self.buf.header.tsc_khz.max(1)
    }

    /// Cycles as microseconds.
    pub fn micros(&self, cycles: u64) -> f64 {
        cycles as f64 * 1e3 / self.tsc_khz() as f64
    }

    /// The process-table slots in use, most faults first.
    pub fn processes(&self) -> Vec<&ProcStats> {
        let mut procs: Vec<&ProcStats> = self.buf.procs.iter().filter(|p| p.pid != 0).collect();
        procs.sort_by_key(|p| (std::cmp::Reverse(p.faults.iter().sum::<u64>()), p.pid));
        procs
    }

    /// The name of process `pid` from the process table.
    pub fn process_name(&self, pid: u32) -> Option<String> {
        self.buf
            .procs
            .iter()
            .find(|p| p.pid == pid && p.pid != 0)
            .map(|p| String::from_utf8_lossy(name_bytes(&p.name)).into_owned())
            .filter(|n| !n.is_empty())
    }

    /// The events still in the ring, oldest first.
    pub fn ring_events(&self) -> Vec<Event> {
        let newest = self.buf.header.events;
        let oldest = newest.saturating_sub(RING_LEN as u64) + 1;
        (oldest..=newest)
            .filter_map(|seq| {
                let ev = self.buf.ring[(seq as usize - 1) % RING_LEN];
                (ev.seq == seq).then_some(ev)
            })
            .collect()
    }
}

impl std::fmt::Debug for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Profile")
            .field("header", &self.buf.header)
            .field("current", &self.buf.current)
            .finish_non_exhaustive()
    }
}

/// A zeroed buffer on the heap (it is too large for a thread's stack).
pub fn zeroed_buf() -> Box<ProfileBuf> {
    // SAFETY: all-zero bytes are a valid ProfileBuf (only integers).
    unsafe { Box::<ProfileBuf>::new_zeroed().assume_init() }
}

/// A decoded ring event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventType {
    /// A page fault of this kind.
    Fault(FaultKind),
    /// Timed kernel work of this kind.
    Span(SpanKind),
}

/// What an event is, or `None` for a malformed one.
pub fn event_type(ev: &Event) -> Option<EventType> {
    match EventKind::from_u32(ev.kind)? {
        EventKind::Fault => FaultKind::from_u32(ev.sub).map(EventType::Fault),
        EventKind::Span => SpanKind::from_u32(ev.sub).map(EventType::Span),
    }
}

/// Reads the ring while the guest runs: every call copies the events written
/// since the last one (protocol in `abi::profile`).
pub struct RingReader {
    placement: Placement,
    /// Number of the next event to copy.
    next: u64,
    /// Events overwritten before they could be copied.
    pub lost: u64,
}

impl RingReader {
    /// A reader of the ring at `placement` that has copied nothing yet.
    pub fn new(placement: Placement) -> RingReader {
        RingReader {
            placement,
            next: 1,
            lost: 0,
        }
    }

    /// Appends the events written since the last call to `out`. While the
    /// guest runs (`final_read` false) the newest event is left for later, as
    /// the kernel may still amend it; the final read takes everything.
    pub fn poll(&mut self, mem: &GuestMem, final_read: bool, out: &mut Vec<Event>) {
        let head_addr = self.placement.addr + ProfileBuf::EVENTS_OFFSET as u64;
        let Ok(head) = mem.load::<u64>(GuestAddress(head_addr), Ordering::Acquire) else {
            return;
        };
        if read_plain::<Header>(mem, self.placement.addr).map(|h| h.magic) != Some(PROFILE_MAGIC) {
            return;
        }
        let last = if final_read {
            head
        } else {
            head.saturating_sub(1)
        };
        let oldest = head.saturating_sub(RING_LEN as u64) + 1;
        if self.next < oldest {
            self.lost += oldest - self.next;
            self.next = oldest;
        }
        while self.next <= last {
            match self.read_slot(mem, self.next) {
                Some(ev) => out.push(ev),
                None => self.lost += 1,
            }
            self.next += 1;
        }
    }

    /// Event `seq` if its slot still holds it, unchanged while copied.
    fn read_slot(&self, mem: &GuestMem, seq: u64) -> Option<Event> {
        let addr = self.placement.addr + ProfileBuf::slot_offset(seq) as u64;
        let seq_addr = GuestAddress(addr + offset_of!(Event, seq) as u64);
        let before = mem.load::<u64>(seq_addr, Ordering::Acquire).ok()?;
        let ev = read_plain::<Event>(mem, addr)?;
        std::sync::atomic::fence(Ordering::Acquire);
        let after = mem.load::<u64>(seq_addr, Ordering::Acquire).ok()?;
        (before == seq && after == seq && ev.seq == seq).then_some(ev)
    }
}

/// Name reported for the boot code, before the kernel's first context switch.
pub const BOOT_THREAD: &str = "boot";

/// The running process as the kernel last published it: (pid, name); before
/// the first switch, pid 0 and [`BOOT_THREAD`]. `None` while the kernel is
/// updating it or when the buffer is not set up.
pub fn read_current(mem: &GuestMem, placement: Placement) -> Option<(u32, String)> {
    let addr = placement.addr + offset_of!(ProfileBuf, current) as u64;
    let cur = read_plain::<Current>(mem, addr)?;
    if cur.generation % 2 == 1 {
        return None;
    }
    let h = read_plain::<Header>(mem, placement.addr)?;
    if h.magic != PROFILE_MAGIC {
        return None;
    }
    if cur.generation == 0 {
        return Some((0, BOOT_THREAD.to_string()));
    }
    Some((
        cur.pid,
        String::from_utf8_lossy(name_bytes(&cur.name)).into_owned(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use abi::profile::{N_STAGES, Stage, name_field};

    /// Writes `buf` into guest memory at `addr`.
    fn write_buf(mem: &GuestMem, addr: u64, buf: &ProfileBuf) {
        // SAFETY: reading the bytes of a plain-integer struct.
        let bytes = unsafe {
            std::slice::from_raw_parts((buf as *const ProfileBuf).cast::<u8>(), ProfileBuf::SIZE)
        };
        mem.write_slice(bytes, GuestAddress(addr)).unwrap();
    }

    fn header() -> Header {
        Header {
            magic: PROFILE_MAGIC,
            version: PROFILE_VERSION,
            enabled: 1,
            size: ProfileBuf::SIZE as u64,
            tsc_khz: 2_000_000,
            ..Header::default()
        }
    }

    fn fault(seq: u64, start: u64, pid: u32) -> Event {
        let mut stages = [0; N_STAGES];
        stages[Stage::Fill as usize] = 300;
        stages[Stage::Map as usize] = 100;
        Event {
            seq,
            start_tsc: start,
            end_tsc: start + 400,
            va: 0x40_0000 + (seq << 12),
            stages,
            pid,
            kind: EventKind::Fault as u32,
            sub: FaultKind::LazyAnon as u32,
            _pad: 0,
        }
    }

    #[test]
    fn reservation_is_page_aligned_and_checked() {
        let mem = crate::memory::create(16 << 20).unwrap();
        let (p, free) = reserve(&mem, 0x40_0000, 16 << 20).unwrap();
        assert_eq!(p.addr, 0x40_0000);
        assert_eq!(p.len % 4096, 0);
        assert_eq!(free, 0x40_0000 + p.len);
        assert!(reserve(&mem, 12 << 20, 16 << 20).is_err());
        // Nothing initialised the buffer: no profile.
        assert!(Profile::read(&mem, p).unwrap().is_none());
        assert_eq!(read_current(&mem, p), None);
        // Initialised, before the first context switch: the boot code.
        let mut buf = zeroed_buf();
        buf.header = header();
        write_buf(&mem, p.addr, &buf);
        assert_eq!(read_current(&mem, p), Some((0, BOOT_THREAD.into())));
    }

    #[test]
    fn the_layout_round_trips_through_guest_memory() {
        let mem = crate::memory::create(16 << 20).unwrap();
        let (p, _) = reserve(&mem, 0x40_0000, 16 << 20).unwrap();
        let mut buf = zeroed_buf();
        buf.header = header();
        buf.header.faults = 3;
        buf.header.events = 3;
        buf.current = Current {
            generation: 4,
            pid: 9,
            name: name_field(b"mmap-read"),
        };
        buf.kinds[FaultKind::SwapIn as usize].latency.add(12_345);
        buf.kinds[FaultKind::SwapIn as usize].stage_cycles[Stage::Fill as usize] = 10_000;
        buf.span_kinds[SpanKind::SwapRead as usize].add(9_000);
        buf.procs[5] = ProcStats {
            pid: 9,
            name: name_field(b"mmap-read"),
            faults: [1, 2, 3, 4, 5, 6],
            fault_cycles: 77,
            last_tsc: 1,
            ..Default::default()
        };
        for seq in 1..=3 {
            buf.ring[seq as usize - 1] = fault(seq, seq * 1000, 9);
        }
        write_buf(&mem, p.addr, &buf);
        let profile = Profile::read(&mem, p).unwrap().unwrap();
        let got = profile.buf();
        assert_eq!(got.header, buf.header);
        assert_eq!(got.current, buf.current);
        assert_eq!(got.kinds, buf.kinds);
        assert_eq!(got.span_kinds, buf.span_kinds);
        assert_eq!(got.procs, buf.procs);
        assert_eq!(got.ring[..3], buf.ring[..3]);
        assert_eq!(profile.process_name(9).as_deref(), Some("mmap-read"));
        assert_eq!(profile.process_name(0), None);
        assert_eq!(profile.processes().len(), 1);
        assert_eq!(profile.ring_events().len(), 3);
        assert_eq!(profile.micros(2_000), 1.0);
        assert_eq!(read_current(&mem, p), Some((9, "mmap-read".into())));
        assert_eq!(
            event_type(&profile.ring_events()[0]),
            Some(EventType::Fault(FaultKind::LazyAnon))
        );
        // A buffer of another layout version is an error, not garbage.
        let mut other = zeroed_buf();
        other.header = header();
        other.header.version += 1;
        assert!(Profile::from_buf(other).is_err());
    }

    #[test]
    fn the_ring_reader_keeps_up_and_counts_losses() {
        let mem = crate::memory::create(16 << 20).unwrap();
        let (p, _) = reserve(&mem, 0x40_0000, 16 << 20).unwrap();
        let mut buf = zeroed_buf();
        buf.header = header();
        let mut reader = RingReader::new(p);
        let mut got = Vec::new();
        let publish = |buf: &mut ProfileBuf, upto: u64| {
            for seq in buf.header.events + 1..=upto {
                buf.ring[(seq as usize - 1) % RING_LEN] = fault(seq, seq, 1);
            }
            buf.header.events = upto;
            write_buf(&mem, p.addr, buf);
        };
        publish(&mut buf, 10);
        reader.poll(&mem, false, &mut got);
        assert_eq!(got.len(), 9, "the newest event waits");
        publish(&mut buf, 20);
        reader.poll(&mem, false, &mut got);
        assert_eq!(got.len(), 19);
        // The guest laps the ring between two reads.
        publish(&mut buf, 20 + RING_LEN as u64 + 100);
        reader.poll(&mem, true, &mut got);
        assert_eq!(reader.lost, 101, "events 20..=120 were overwritten");
        let seqs: Vec<u64> = got.iter().map(|e| e.seq).collect();
        assert!(seqs.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(*seqs.last().unwrap(), 20 + RING_LEN as u64 + 100);
        assert_eq!(seqs.len() as u64 + reader.lost, 20 + RING_LEN as u64 + 100);
        // A slot being rewritten (seq 0) is not taken.
        let mut reader = RingReader::new(p);
        buf.ring[(buf.header.events as usize - 1) % RING_LEN].seq = 0;
        write_buf(&mem, p.addr, &buf);
        let mut tail = Vec::new();
        reader.poll(&mem, true, &mut tail);
        assert_eq!(tail.len(), RING_LEN - 1);
    }
}
