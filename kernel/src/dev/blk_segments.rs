//! Splitting I/O into the requests and segments of a virtio block device: a
//! kernel buffer page by page through [`crate::mm::virt_to_phys`], merging
//! physically adjacent pages, whole sectors only, at most
//! [`MAX_REQUEST_BYTES`] per request; a list of pages (swap) into runs of
//! consecutive sectors, one request each.

use super::virtio_blk::SECTOR_SIZE;
use super::virtqueue::Segment;

/// Most bytes moved by one request.
pub const MAX_REQUEST_BYTES: usize = 1 << 20;
const PAGE_SIZE: u64 = 4096;

/// Sectors of one 4 KiB page.
pub const PAGE_SECTORS: u64 = PAGE_SIZE / SECTOR_SIZE as u64;

/// How many of the next `left` pages (page `j` at sector `sector(j)`) go in
/// one request: the run of consecutive sectors from page 0, at most `max`
/// pages (at least 1 when `left` and `max` are).
pub fn run_len(left: usize, max: usize, sector: impl Fn(usize) -> u64) -> usize {
    let limit = left.min(max);
    let first = sector(0);
    (1..limit)
        .find(|&j| sector(j) != first + j as u64 * PAGE_SECTORS)
        .unwrap_or(limit)
}

/// Splits up to `len` bytes at kernel address `va` into at most
/// `segs.len()` guest-physical segments written to `segs` (page by page,
/// merging physically adjacent pages), stopping at [`MAX_REQUEST_BYTES`].
/// Returns how many segments it wrote and the bytes they cover, a multiple of
/// the sector size (at least one sector when `len` is a non-zero multiple of
/// it and `segs.len() >= 2`).
pub fn data_segments(
    va: u64,
    len: usize,
    segs: &mut [Segment],
    device_writes: bool,
) -> (usize, usize) {
    split_segments(va, len, segs, device_writes, crate::mm::virt_to_phys)
}

/// [`data_segments`] with the address translation as a parameter.
fn split_segments(
    va: u64,
    len: usize,
    segs: &mut [Segment],
    device_writes: bool,
    to_phys: impl Fn(u64) -> u64,
) -> (usize, usize) {
    let mut n = 0usize;
    let end = va + len as u64;
    let mut cur = va;
    let mut total = 0usize;
    while cur < end && total < MAX_REQUEST_BYTES {
        let page_end = (cur & !(PAGE_SIZE - 1)) + PAGE_SIZE;
        let step = page_end.min(end) - cur;
        let pa = to_phys(cur);
        let capacity = segs.len();
        match n.checked_sub(1).map(|i| &mut segs[i]) {
            Some(last) if last.addr + last.len as u64 == pa => last.len += step as u32,
            _ if n == capacity => break,
            _ => {
                segs[n] = Segment {
                    addr: pa,
                    len: step as u32,
                    device_writes,
                };
                n += 1;
            }
        }
        total += step as usize;
        cur += step;
    }
    // Whole sectors only: trim the tail back to a sector boundary.
    let mut excess = total % SECTOR_SIZE;
    total -= excess;
    while excess > 0 && n > 0 {
        let last = &mut segs[n - 1];
        let cut = excess.min(last.len as usize);
        last.len -= cut as u32;
        excess -= cut;
        if last.len == 0 {
            n -= 1;
        }
    }
    (n, total)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NO_SEGMENT: Segment = Segment {
        addr: 0,
        len: 0,
        device_writes: false,
    };

    fn split(
        va: u64,
        len: usize,
        max: usize,
        device_writes: bool,
        to_phys: impl Fn(u64) -> u64,
    ) -> (Vec<Segment>, usize) {
        let mut segs = vec![NO_SEGMENT; max];
        let (n, bytes) = split_segments(va, len, &mut segs, device_writes, to_phys);
        segs.truncate(n);
        (segs, bytes)
    }

    #[test]
    fn pages_go_in_runs_of_consecutive_sectors() {
        let sectors = [80u64, 88, 96, 8, 16, 200];
        let at = |from: usize| move |j: usize| sectors[from + j];
        assert_eq!(run_len(6, 62, at(0)), 3);
        assert_eq!(run_len(3, 62, at(3)), 2);
        assert_eq!(run_len(1, 62, at(5)), 1);
        assert_eq!(run_len(6, 2, at(0)), 2, "capped by the queue");
        assert_eq!(run_len(0, 62, at(0)), 0);
    }

    #[test]
    fn contiguous_buffer_is_one_segment() {
        let (segs, n) = split(0x10_0000, 64 * 1024, 62, true, |va| va + 0x1000);
        assert_eq!(n, 64 * 1024);
        assert_eq!(
            segs,
            vec![Segment {
                addr: 0x10_1000,
                len: 64 * 1024,
                device_writes: true
            }]
        );
    }

    #[test]
    fn scattered_pages_split_and_stop_at_a_sector() {
        // Every page maps somewhere unrelated: one segment per page.
        let scatter = |va: u64| (va & 0xfff) + ((va >> 12) * 7 % 101) * 0x10_0000;
        let (segs, n) = split(0x5000 + 100, 8 * 4096, 3, false, scatter);
        // 3 segments: 3996 + 4096 + 4096 = 12188 bytes, trimmed to 23 sectors.
        assert_eq!(n, 23 * 512);
        assert_eq!(segs.len(), 3);
        assert_eq!(segs.iter().map(|s| s.len as usize).sum::<usize>(), n);
        assert_eq!(segs[0].addr, scatter(0x5000 + 100));
        assert_eq!(segs[0].len, 3996);
        assert!(segs.iter().all(|s| !s.device_writes));
    }

    #[test]
    fn large_transfers_are_capped() {
        let (segs, n) = split(0, 3 * MAX_REQUEST_BYTES, 62, true, |va| va);
        assert_eq!(n, MAX_REQUEST_BYTES);
        assert_eq!(segs.len(), 1);
    }

    #[test]
    fn a_short_tail_is_trimmed_away() {
        // 100 bytes then a page elsewhere: only whole sectors are kept.
        let (segs, n) = split(0x1000 - 100, 612, 4, true, |va| va * 2);
        assert_eq!(n, 512);
        assert_eq!(segs.iter().map(|s| s.len as usize).sum::<usize>(), 512);
    }
}
