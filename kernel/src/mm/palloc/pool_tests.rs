//! Host tests of the frame pool's run search: every allocation lands where a
//! frame-by-frame search from the hint (then from the start) would put it.
use super::*;
use alloc::boxed::Box;
use alloc::vec;
use alloc::vec::Vec;

/// A pool of `count` frames starting at frame `first` of physical memory.
fn pool(first: u64, count: usize) -> Pool {
    Pool {
        base: first * PAGE_SIZE,
        count,
        bits: Box::leak(vec![0u64; count.div_ceil(64)].into_boxed_slice()),
        ..Pool::empty()
    }
}

/// The start the allocator must pick: the first fitting start in
/// `hint..count`, else in `0..hint`, checked frame by frame (single frames
/// are looked for from the start of the hint's bitmap word).
fn expected(p: &Pool, n: usize, align: usize) -> Option<usize> {
    let fits = |i: usize| {
        ((p.base / PAGE_SIZE) as usize + i).is_multiple_of(align)
            && i + n <= p.count
            && (i..i + n).all(|j| !p.is_used(j))
    };
    let hint = if n == 1 && align == 1 {
        (p.hint / 64 * 64) % p.count.next_multiple_of(64)
    } else {
        p.hint
    }
    .min(p.count);
    (hint..p.count).chain(0..hint).find(|&i| fits(i))
}

/// A small deterministic generator (xorshift64).
fn next(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

#[test]
fn runs_land_where_a_frame_by_frame_search_finds_them() {
    for (first, count) in [(0u64, 300usize), (3, 130), (1, 64), (5, 1000)] {
        let mut p = pool(first, count);
        let mut held: Vec<(u64, usize)> = Vec::new();
        let mut rng = 0x9e37_79b9_7f4a_7c15u64 ^ count as u64;
        for _ in 0..4000 {
            let r = next(&mut rng);
            if r.is_multiple_of(3) && !held.is_empty() {
                let (pa, n) = held.swap_remove((r as usize / 3) % held.len());
                p.free(pa, n);
                continue;
            }
            let n = [1, 2, 4, 5, 70][(r >> 8) as usize % 5];
            let align = [1, 2, 4, 8][(r >> 16) as usize % 4];
            let want = expected(&p, n, align);
            let got = p.alloc(n, align);
            assert_eq!(
                got,
                want.map(|i| p.base + i as u64 * PAGE_SIZE),
                "{n} frames aligned {align} in a pool of {count} at frame {first}"
            );
            if let Some(pa) = got {
                held.push((pa, n));
            }
        }
        let used: usize = held.iter().map(|&(_, n)| n).sum();
        assert_eq!(p.used, used);
    }
}

#[test]
fn a_full_pool_refuses_and_a_freed_aligned_run_is_found() {
    let mut p = pool(1, 256);
    // Index i of this pool is physical frame i + 1.
    while p.alloc(1, 1).is_some() {}
    assert_eq!(p.alloc(2, 2), None);
    p.free(p.base + 100 * PAGE_SIZE, 1);
    p.free(p.base + 201 * PAGE_SIZE, 4);
    assert_eq!(p.alloc(4, 4), None, "201..205 starts at physical frame 202");
    assert_eq!(p.alloc(3, 1), Some(p.base + 201 * PAGE_SIZE));
    assert_eq!(p.alloc(2, 1), None);
    // Left free: indices 100 and 204, physical frames 101 and 205, both odd.
    assert_eq!(p.alloc(1, 2), None);
    assert_eq!(p.alloc(1, 1), Some(p.base + 204 * PAGE_SIZE));
}
