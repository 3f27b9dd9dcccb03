//! Out of memory: telling when reclaim has stopped making progress, and
//! choosing and killing a process so that the others can finish.
//!
//! Reclaim makes progress when the pages eviction chooses can be saved
//! somewhere: a clean page dropped, a dirty file page written back, an
//! anonymous page written to swap. When swap is full (or there is none) and
//! memory is full of anonymous pages, most victims cannot be saved and are
//! mapped back; the few that can (executable and file pages) are pages the
//! processes keep faulting back in: they would evict each other forever.
//! The VM counts, over each window of a quarter pool's worth of victims,
//! how many were freed; when fewer than a quarter were, reclaim has stalled
//! (Linux calls out of memory when reclaim makes no progress for a while,
//! in the same spirit). That, or finding nothing at all to evict, calls the
//! killer.
//!
//! The killer chooses the live process with the largest footprint (resident
//! plus swapped pages; never the kernel, never a space still being built)
//! and, unless that is the process asking, reaps its memory at once and
//! tells the user (`faultline: out of memory: killing NAME (pid N)`); the
//! process itself ends with `exit(-1)` when it next runs.
use super::addr::SpaceId;
use super::hw::Hw;
use super::space::Life;
use super::{Vm, VmError};

/// The current window's eviction statistics.
#[derive(Debug, Default)]
pub struct Pressure {
    /// Frames eviction chose in this window.
    scanned: usize,
    /// Frames it freed.
    freed: usize,
    /// The last full window freed too little.
    stalled: bool,
}

impl Pressure {
    /// No eviction seen yet.
    pub const fn new() -> Pressure {
        Pressure {
            scanned: 0,
            freed: 0,
            stalled: false,
        }
    }

    /// One eviction batch chose `scanned` frames and freed `freed` of them,
    /// in a user pool of `pool` frames; closes the window after a quarter
    /// pool's worth of victims (at least 32).
    pub fn record(&mut self, scanned: usize, freed: usize, pool: usize) {
        self.scanned += scanned;
        self.freed += freed;
        if self.scanned >= (pool / 4).max(32) {
            self.stalled = self.freed * 4 < self.scanned;
            self.scanned = 0;
            self.freed = 0;
        }
    }

    /// Whether the last full window showed reclaim stalled.
    pub fn stalled(&self) -> bool {
        self.stalled
    }

    /// Starts over (after a kill freed memory).
    pub fn reset(&mut self) {
        *self = Pressure::new();
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
        let Vm {
            spaces, hw, swap, ..
        } = self;
        let Some(space) = spaces.get(victim.0 as usize).and_then(Option::as_ref) else {
            return Err(VmError::OutOfMemory);
        };
        hw.report_oom_kill(space.pid, space.name(), swap.usage());
        self.reap(victim);
        self.pressure.reset();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reclaim_that_frees_little_is_stalled() {
        let mut p = Pressure::new();
        // A pool of 64 frames: windows of 32 victims.
        for _ in 0..4 {
            p.record(8, 1, 64);
        }
        assert!(p.stalled(), "4 of 32 freed");
        p.reset();
        assert!(!p.stalled());
    }

    #[test]
    fn reclaim_that_frees_most_is_progress() {
        let mut p = Pressure::new();
        for _ in 0..4 {
            p.record(8, 2, 64);
        }
        assert!(!p.stalled(), "8 of 32 freed: a quarter");
        // A window not yet full decides nothing.
        p.record(8, 0, 64);
        assert!(!p.stalled());
    }
}
