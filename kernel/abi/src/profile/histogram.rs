//! The log-scale latency histograms: [`Latency`] (count, sum, largest and
//! histogram of one kind of timed work, with its quantiles) and the bucket
//! of a latency ([`bucket`], [`bucket_bounds`]).

use super::{HIST_BUCKETS, HIST_SUB};

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
}
