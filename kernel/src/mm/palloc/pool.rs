//! One pool of 4 KiB frames: a bitmap of the used frames, and (user pool
//! only) a bitmap of the free frames known to hold zeros; single frames,
//! aligned runs and fixed ranges taken and given back.
use abi::layout::PAGE_SIZE;

pub(super) const MAX_FRAMES: usize = 1 << 20; // 4 GiB of RAM
pub(super) const WORDS: usize = MAX_FRAMES / 64;

/// One pool: frames `[base, base + count)` and a bitmap of the used ones.
pub struct Pool {
    pub(super) base: u64,
    pub(super) count: usize,
    pub(super) used: usize,
    /// Bit `i` of word `i / 64` set = frame `base + i` in use; bits for frames
    /// outside the pool are never set.
    pub(super) bits: &'static mut [u64],
    pub(super) hint: usize,
    /// Bit `i` set: frame `base + i` is free and known to hold zeros (user
    /// pool only; empty for the kernel pool).
    pub(super) zero: &'static mut [u64],
    /// Where the idle zeroing looks next.
    pub(super) zero_hint: usize,
    /// Frames reserved by the idle zeroing right now (counted in `used`,
    /// but free as far as anyone else is concerned).
    pub(super) zeroing: usize,
}

impl Pool {
    pub(super) const fn empty() -> Pool {
        Pool {
            base: 0,
            count: 0,
            used: 0,
            bits: &mut [],
            hint: 0,
            zero: &mut [],
            zero_hint: 0,
            zeroing: 0,
        }
    }

    /// Whether frame `i` is known to be zero; forgets it (the frame is being
    /// handed out).
    pub(super) fn take_zero(&mut self, i: usize) -> bool {
        let Some(word) = self.zero.get_mut(i / 64) else {
            return false;
        };
        let was = *word & (1 << (i % 64)) != 0;
        *word &= !(1 << (i % 64));
        was
    }

    /// A free frame not known to be zero, reserved (marked used) for zeroing.
    pub(super) fn reserve_dirty(&mut self) -> Option<usize> {
        let words = self.count.div_ceil(64);
        if words == 0 || self.zero.is_empty() {
            return None;
        }
        let start = self.zero_hint % words;
        for k in 0..words {
            let w = (start + k) % words;
            let dirty_free = !self.bits[w] & !self.zero[w];
            if dirty_free == 0 {
                continue;
            }
            let i = w * 64 + dirty_free.trailing_zeros() as usize;
            if i >= self.count {
                continue;
            }
            self.set(i, true);
            self.used += 1;
            self.zeroing += 1;
            self.zero_hint = i;
            return Some(i);
        }
        None
    }

    fn is_used(&self, i: usize) -> bool {
        self.bits[i / 64] & (1 << (i % 64)) != 0
    }

    fn set(&mut self, i: usize, used: bool) {
        if used {
            self.bits[i / 64] |= 1 << (i % 64);
        } else {
            self.bits[i / 64] &= !(1 << (i % 64));
        }
    }

    /// One free frame: scans whole bitmap words from the hint (the hot path
    /// of every page fault).
    fn alloc_one(&mut self) -> Option<u64> {
        if self.used == self.count {
            return None;
        }
        let words = self.count.div_ceil(64);
        let start = (self.hint / 64) % words;
        for k in 0..words {
            let w = (start + k) % words;
            let word = self.bits[w];
            if word == u64::MAX {
                continue;
            }
            let i = w * 64 + word.trailing_ones() as usize;
            if i >= self.count {
                continue;
            }
            self.bits[w] |= 1 << (i % 64);
            self.used += 1;
            self.hint = i + 1;
            return Some(self.base + i as u64 * PAGE_SIZE);
        }
        None
    }

    /// Finds `n` free consecutive frames whose first index is a multiple of
    /// `align` (counted from physical 0), marks them used, returns the first
    /// address; `None` if the pool has no such run. Looks from the hint to
    /// the end, then from the start to the hint, skipping whole used words:
    /// a nearly full pool costs a pass over its words, not over its frames.
    pub(super) fn alloc(&mut self, n: usize, align: usize) -> Option<u64> {
        if n == 1 && align == 1 {
            return self.alloc_one();
        }
        if n == 0 || align == 0 || self.count - self.used < n {
            return None;
        }
        let hint = self.hint.min(self.count);
        let i = self
            .find_run(hint, self.count, n, align)
            .or_else(|| self.find_run(0, hint, n, align))?;
        for j in i..i + n {
            self.set(j, true);
        }
        self.used += n;
        self.hint = i + n;
        Some(self.base + i as u64 * PAGE_SIZE)
    }

    /// The first index in `from..below` where `n` free frames start, that
    /// start aligned to `align` frames of physical memory.
    fn find_run(&self, from: usize, below: usize, n: usize, align: usize) -> Option<usize> {
        let first_frame = (self.base / PAGE_SIZE) as usize;
        let mut i = from;
        loop {
            i = self.next_free(i);
            i = (first_frame + i).next_multiple_of(align) - first_frame;
            if i >= below || i + n > self.count {
                return None;
            }
            match self.first_used(i, i + n) {
                // Every start up to `j` would contain frame `j`.
                Some(j) => i = j + 1,
                None => return Some(i),
            }
        }
    }

    /// The first free frame at or after `i` (`count` if none).
    fn next_free(&self, mut i: usize) -> usize {
        while i < self.count {
            let used_from_i = self.bits[i / 64] >> (i % 64);
            let run = used_from_i.trailing_ones() as usize;
            if run < 64 - i % 64 {
                return (i + run).min(self.count);
            }
            i += run;
        }
        self.count
    }

    /// The first used frame in `i..end`, if any.
    fn first_used(&self, mut i: usize, end: usize) -> Option<usize> {
        while i < end {
            let used_from_i = self.bits[i / 64] >> (i % 64);
            let free = used_from_i.trailing_zeros() as usize;
            if free < 64 - i % 64 {
                return (i + free < end).then_some(i + free);
            }
            i += 64 - i % 64;
        }
        None
    }

    /// Marks the `n` frames from `pa` used if they are all in the pool and
    /// free; returns whether it did.
    pub(super) fn alloc_at(&mut self, pa: u64, n: usize) -> bool {
        if n == 0 || !self.contains(pa) || !pa.is_multiple_of(PAGE_SIZE) {
            return false;
        }
        let i = ((pa - self.base) / PAGE_SIZE) as usize;
        if i + n > self.count || self.first_used(i, i + n).is_some() {
            return false;
        }
        for j in i..i + n {
            self.set(j, true);
        }
        self.used += n;
        true
    }

    pub(super) fn free(&mut self, pa: u64, n: usize) {
        let i = ((pa - self.base) / PAGE_SIZE) as usize;
        for j in i..i + n {
            assert!(
                self.is_used(j),
                "double free of frame {:#x}",
                self.base + j as u64 * PAGE_SIZE
            );
            self.set(j, false);
        }
        self.used -= n;
    }

    pub(super) fn contains(&self, pa: u64) -> bool {
        pa >= self.base && pa < self.base + self.count as u64 * PAGE_SIZE
    }
}

#[cfg(test)]
#[path = "pool_tests.rs"]
mod tests;
