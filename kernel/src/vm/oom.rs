//! Out of memory: telling when reclaim has stopped making progress, and
//! choosing and killing a process so that the others can finish.
//!
//! Progress is judged the way Linux's workingset code does: every page that
//! leaves memory is stamped with the eviction counter; a page faulted back
//! in within one turn of the user pool (fewer evictions since its stamp than
//! there are frames) is a refault, evicted while still in use. Over each
//! window of a quarter pool's evictions the VM counts refaults; when at
//! least half of the evicted pages came straight back, memory is thrashing.
//! Thrashing with (almost) no swap left (fewer free slots than a
//! thirty-second of the disk, or than one eviction batch) means the
//! processes in memory need more than there is and will only take pages
//! from each other: that, or finding nothing at all to evict, calls the
//! killer.
//!
//! The killer chooses the live process with the largest footprint (resident
//! plus swapped pages; never the kernel, never a space still being built)
//! and, unless that is the process asking, reaps its memory at once and
//! tells the user (`faultline: out of memory: killing NAME (pid N)`); the
//! process itself ends with `exit(-1)` when it next runs.
use super::addr::{SpaceId, Stamp};
use super::hw::Hw;
use super::space::Life;
use super::{Vm, VmError};

/// The eviction counter and the current window's statistics.
#[derive(Debug, Default)]
pub struct Pressure {
    /// Evictions so far (wrapping): the source of stamps.
    evictions: u32,
    window_evictions: u32,
    window_refaults: u32,
    /// The last full window was thrashing.
    thrashing: bool,
}

impl Pressure {
    pub const fn new() -> Pressure {
        Pressure {
            evictions: 0,
            window_evictions: 0,
            window_refaults: 0,
            thrashing: false,
        }
    }

    /// Counts one page (or shared frame) leaving memory; returns its stamp.
    pub fn stamp(&mut self) -> Stamp {
        self.evictions = self.evictions.wrapping_add(1).max(1);
        self.window_evictions += 1;
        Stamp(self.evictions)
    }

    /// A page stamped `stamp` is being faulted back in, with `frames` frames
    /// in the user pool; closes the window after a quarter pool's evictions.
    pub fn refault(&mut self, stamp: Stamp, frames: usize) {
        let frames = frames.max(1) as u32;
        if stamp.0 != 0 && self.evictions.wrapping_sub(stamp.0) < frames {
            self.window_refaults += 1;
        }
        if self.window_evictions >= (frames / 4).max(16) {
            self.thrashing = self.window_refaults * 2 >= self.window_evictions;
            self.window_evictions = 0;
            self.window_refaults = 0;
        }
    }

    /// Whether swap is (almost) full: fewer than `batch` free slots, or than
    /// a thirty-second of `total` (no swap disk counts as full).
    pub fn swap_short(free: u32, total: u32, batch: u32) -> bool {
        free < batch.max(total / 32)
    }

    /// Whether the last full window was thrashing.
    pub fn thrashing(&self) -> bool {
        self.thrashing
    }

    /// Starts over (after a kill freed memory).
    pub fn reset(&mut self) {
        self.window_evictions = 0;
        self.window_refaults = 0;
        self.thrashing = false;
    }
}

impl<H: Hw> Vm<H> {
    /// Pages of space `id` in memory or in swap.
    fn footprint(&self, id: SpaceId) -> usize {
        self.space(id).map_or(0, |s| {
            s.spt
                .iter()
                .filter(|(_, p)| {
                    p.resident().is_some() || p.fill_source() != super::page::Source::Origin
                })
                .count()
        })
    }

    /// The live space with the largest footprint (ties: the newest).
    fn choose_victim(&self) -> Option<SpaceId> {
        (0..self.spaces.len() as u32)
            .map(SpaceId)
            .filter(|&id| self.space(id).is_ok_and(|s| s.life == Life::Live))
            .max_by_key(|&id| (self.footprint(id), id.0))
    }

    /// The out-of-memory killer, called on behalf of space `requester`:
    /// chooses a victim; reaps it and returns `Ok` when it is another
    /// process (memory was freed, try again); `OutOfMemory` when the
    /// victim is the requester (or there is none), whose caller then kills
    /// the requesting process.
    pub(super) fn out_of_memory(&mut self, requester: SpaceId) -> Result<(), VmError> {
        let Some(victim) = self.choose_victim() else {
            return Err(VmError::OutOfMemory);
        };
        if victim == requester || self.footprint(victim) == 0 {
            return Err(VmError::OutOfMemory);
        }
        let (pid, name) = match self.space(victim) {
            Ok(s) => (s.pid, s.name),
            Err(_) => return Err(VmError::OutOfMemory),
        };
        let len = name.iter().position(|&b| b == 0).unwrap_or(name.len());
        self.hw.report_oom_kill(pid, &name[..len]);
        self.reap(victim);
        self.pressure.reset();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_of_refaults_is_thrashing() {
        let mut p = Pressure::new();
        let frames = 64;
        // Sixteen evictions, each page faulted straight back.
        for _ in 0..16 {
            let s = p.stamp();
            p.refault(s, frames);
        }
        assert!(p.thrashing());
        p.reset();
        assert!(!p.thrashing());
    }

    #[test]
    fn swap_is_short_near_full() {
        assert!(Pressure::swap_short(0, 0, 8), "no swap disk");
        assert!(Pressure::swap_short(7, 100, 8));
        assert!(!Pressure::swap_short(8, 100, 8));
        assert!(Pressure::swap_short(63, 2048, 8));
        assert!(!Pressure::swap_short(64, 2048, 8));
    }

    #[test]
    fn pages_that_stay_out_are_progress() {
        let mut p = Pressure::new();
        let frames = 64;
        let old: Vec<Stamp> = (0..frames).map(|_| p.stamp()).collect();
        // A whole pool later, the old pages come back: not refaults.
        for _ in 0..frames {
            p.stamp();
        }
        for s in old {
            p.refault(s, frames);
        }
        assert!(!p.thrashing());
        // A page never evicted is no refault either.
        p.refault(Stamp::default(), frames);
        assert!(!p.thrashing());
    }
}
