//! The debugger's breakpoints: software breakpoints (an `int3` written over
//! the first byte of an instruction, wherever the address is mapped) and
//! hardware breakpoints and watchpoints (the four debug-register slots KVM
//! loads for the guest, `KVM_SET_GUEST_DEBUG`).

use std::collections::BTreeMap;

use vm_memory::{Bytes, GuestAddress};

use crate::memory::GuestMem;

/// The `int3` instruction.
pub const INT3: u8 = 0xcc;

/// A software breakpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Sw {
    /// The byte the `int3` replaced.
    orig: u8,
    /// Guest-physical addresses holding the `int3`: where it was written,
    /// and copies found later (a forked child's copy of the page).
    pas: Vec<u64>,
}

/// Software breakpoints by guest-virtual address.
#[derive(Debug, Default)]
pub struct SwTable {
    active: BTreeMap<u64, Sw>,
    /// Addresses asked for while they could not be written yet (before the
    /// kernel's debugger support is up in PVM guest mode).
    pending: Vec<u64>,
    /// Original bytes of removed breakpoints, to repair a stale copy of an
    /// `int3` that a process hits later (a forked or swapped copy).
    retired: BTreeMap<u64, u8>,
}

impl SwTable {
    /// Inserts a breakpoint at `va`, which maps to `pa`. Fails if `pa` is not RAM.
    pub fn insert(&mut self, mem: &GuestMem, va: u64, pa: u64) -> Result<(), ()> {
        if let Some(sw) = self.active.get(&va)
            && sw.pas.contains(&pa)
        {
            return Ok(());
        }
        let orig: u8 = mem.read_obj(GuestAddress(pa)).map_err(|_| ())?;
        if orig == INT3 && self.active.contains_key(&va) {
            self.active.get_mut(&va).ok_or(())?.pas.push(pa);
            return Ok(());
        }
        mem.write_obj(INT3, GuestAddress(pa)).map_err(|_| ())?;
        let sw = self.active.entry(va).or_insert(Sw {
            orig,
            pas: Vec::new(),
        });
        sw.pas.push(pa);
        self.retired.remove(&va);
        Ok(())
    }

    /// Records a breakpoint to insert later.
    pub fn defer(&mut self, va: u64) {
        if !self.pending.contains(&va) {
            self.pending.push(va);
        }
    }

    /// Takes the deferred breakpoints.
    pub fn take_pending(&mut self) -> Vec<u64> {
        std::mem::take(&mut self.pending)
    }

    /// Removes the breakpoint at `va`, restoring the original byte wherever the
    /// `int3` still is. Returns whether there was one.
    pub fn remove(&mut self, mem: &GuestMem, va: u64) -> bool {
        let was_pending = self.pending.len();
        self.pending.retain(|&p| p != va);
        let Some(sw) = self.active.remove(&va) else {
            return self.pending.len() != was_pending;
        };
        for pa in sw.pas {
            restore(mem, pa, sw.orig);
        }
        self.retired.insert(va, sw.orig);
        true
    }

    /// Removes every breakpoint (the debugger went away).
    pub fn clear(&mut self, mem: &GuestMem) {
        let all: Vec<u64> = self.active.keys().copied().collect();
        for va in all {
            self.remove(mem, va);
        }
        self.pending.clear();
    }

    /// Whether an `int3` at `va` (found at `pa`) is one of ours; a copy at a
    /// new physical address is remembered so removal restores it too.
    pub fn hit(&mut self, va: u64, pa: Option<u64>) -> bool {
        let Some(sw) = self.active.get_mut(&va) else {
            return false;
        };
        if let Some(pa) = pa
            && !sw.pas.contains(&pa)
        {
            sw.pas.push(pa);
        }
        true
    }

    /// Repairs a stale `int3` at `va` (physical `pa`) left from a removed
    /// breakpoint; returns whether it did.
    pub fn repair(&mut self, mem: &GuestMem, va: u64, pa: u64) -> bool {
        match self.retired.get(&va) {
            Some(&orig) if mem.read_obj::<u8>(GuestAddress(pa)).ok() == Some(INT3) => {
                restore(mem, pa, orig);
                true
            }
            _ => false,
        }
    }
}

/// Puts `orig` back at `pa` if the `int3` is still there.
fn restore(mem: &GuestMem, pa: u64, orig: u8) {
    if mem.read_obj::<u8>(GuestAddress(pa)).ok() == Some(INT3) {
        // Best effort: `pa` was RAM when the breakpoint went in.
        let _ = mem.write_obj(orig, GuestAddress(pa));
    }
}

/// What a hardware slot watches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HwKind {
    Execute,
    Write,
    ReadWrite,
}

/// One debug-register slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HwSlot {
    pub addr: u64,
    pub kind: HwKind,
    /// 1, 2, 4 or 8 bytes (1 for execute).
    pub len: u64,
}

/// The four debug-register slots.
#[derive(Debug, Default)]
pub struct HwSlots(pub [Option<HwSlot>; 4]);

impl HwSlots {
    /// Takes a free slot; fails when all four are in use or the length or
    /// alignment is not one the debug registers can watch.
    pub fn add(&mut self, slot: HwSlot) -> Result<(), ()> {
        if !matches!(slot.len, 1 | 2 | 4 | 8) || !slot.addr.is_multiple_of(slot.len) {
            return Err(());
        }
        let free = self.0.iter_mut().find(|s| s.is_none()).ok_or(())?;
        *free = Some(slot);
        Ok(())
    }

    /// Frees the slot holding exactly `slot`; returns whether one did.
    pub fn remove(&mut self, slot: HwSlot) -> bool {
        match self.0.iter_mut().find(|s| **s == Some(slot)) {
            Some(s) => {
                *s = None;
                true
            }
            None => false,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.iter().all(Option::is_none)
    }

    /// DR0-DR3 and DR7 for `KVM_SET_GUEST_DEBUG` (`debugreg[0..4]`, `[7]`).
    pub fn debugregs(&self) -> [u64; 8] {
        let mut dr = [0u64; 8];
        for (i, slot) in self.0.iter().enumerate() {
            let Some(s) = slot else { continue };
            dr[i] = s.addr;
            let rw = match s.kind {
                HwKind::Execute => 0b00,
                HwKind::Write => 0b01,
                HwKind::ReadWrite => 0b11,
            };
            let len = match (s.kind, s.len) {
                (HwKind::Execute, _) | (_, 1) => 0b00,
                (_, 2) => 0b01,
                (_, 8) => 0b10,
                _ => 0b11,
            };
            dr[7] |= (1 << (2 * i)) | (rw << (16 + 4 * i)) | (len << (18 + 4 * i));
        }
        dr
    }

    /// The slot a `KVM_EXIT_DEBUG` with this DR6 reports, if any.
    pub fn triggered(&self, dr6: u64) -> Option<HwSlot> {
        (0..4).find(|i| dr6 & (1 << i) != 0).and_then(|i| self.0[i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn software_breakpoints_write_and_restore() {
        let mem = crate::memory::create(1 << 20).unwrap();
        mem.write_obj(0x55u8, GuestAddress(0x1000)).unwrap();
        mem.write_obj(0x55u8, GuestAddress(0x2000)).unwrap();
        let mut t = SwTable::default();
        t.insert(&mem, 0x40_0000, 0x1000).unwrap();
        t.insert(&mem, 0x40_0000, 0x1000).unwrap();
        assert_eq!(mem.read_obj::<u8>(GuestAddress(0x1000)).unwrap(), INT3);
        // A forked copy of the page: the hit records it, removal restores both.
        mem.write_obj(INT3, GuestAddress(0x2000)).unwrap();
        assert!(t.hit(0x40_0000, Some(0x2000)));
        assert!(!t.hit(0x40_0001, None));
        assert!(t.remove(&mem, 0x40_0000));
        assert_eq!(mem.read_obj::<u8>(GuestAddress(0x1000)).unwrap(), 0x55);
        assert_eq!(mem.read_obj::<u8>(GuestAddress(0x2000)).unwrap(), 0x55);
        assert!(!t.remove(&mem, 0x40_0000));
        // A stale copy found after removal is repaired once.
        mem.write_obj(INT3, GuestAddress(0x3000)).unwrap();
        assert!(t.repair(&mem, 0x40_0000, 0x3000));
        assert_eq!(mem.read_obj::<u8>(GuestAddress(0x3000)).unwrap(), 0x55);
        assert!(!t.repair(&mem, 0x40_0000, 0x3000));
        assert!(t.insert(&mem, 0x40_0000, 1 << 30).is_err());
        t.defer(0x50_0000);
        assert!(t.remove(&mem, 0x50_0000));
        assert!(t.take_pending().is_empty());
    }

    #[test]
    fn hardware_slots_encode_dr7() {
        let mut h = HwSlots::default();
        let exec = HwSlot {
            addr: 0xffff_ffff_8020_0000,
            kind: HwKind::Execute,
            len: 1,
        };
        let watch = HwSlot {
            addr: 0x1000,
            kind: HwKind::Write,
            len: 8,
        };
        h.add(exec).unwrap();
        h.add(watch).unwrap();
        assert!(
            h.add(HwSlot {
                addr: 0x1001,
                kind: HwKind::Write,
                len: 4
            })
            .is_err()
        );
        let dr = h.debugregs();
        assert_eq!(dr[0], exec.addr);
        assert_eq!(dr[1], 0x1000);
        assert_eq!(dr[7], 0x1 | 0x4 | (0b01 << 20) | (0b10 << 22));
        assert_eq!(h.triggered(0xffff_0ff2), Some(watch));
        assert_eq!(h.triggered(0xffff_4ff0), None);
        assert!(h.remove(exec));
        assert!(!h.remove(exec));
        h.add(exec).unwrap();
        h.add(exec).unwrap();
        h.add(exec).unwrap();
        assert!(h.add(exec).is_err());
    }
}
