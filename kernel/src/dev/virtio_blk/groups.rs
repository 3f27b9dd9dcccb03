//! Groups of requests sent with one notification: the swap disk's page
//! transfers ([`BlockDevice::write_pages`], [`BlockDevice::read_pages`]: a
//! request per run of consecutive sectors) and the block cache's dirty runs
//! ([`BlockDevice::write_runs`]). Up to [`MAX_BATCH`] requests go together,
//! as many as the queue holds; each exit to the VMM costs far more than the
//! copies it asks for.

use super::{BlockDevice, MAX_BATCH, NO_SEGMENT, T_IN, T_OUT};
use crate::dev::BlockError;
use crate::dev::blk_segments::{data_segments, run_len};
use crate::dev::virtqueue::{MAX_SIZE, Segment};

impl BlockDevice {
    /// Writes each `(sector, bytes)` run (whole sectors, kernel memory as
    /// for [`BlockDevice::read`]), one request per run, sent together (one
    /// notification while the queue holds them; a block cache's scattered
    /// dirty sectors). `OutOfRange` or `Unaligned` when a run is past the
    /// disk's end or not whole sectors (nothing is sent then); otherwise
    /// every request is sent and the first failure is returned.
    pub fn write_runs(&self, runs: &[(u64, &[u8])]) -> Result<(), BlockError> {
        for &(sector, buf) in runs {
            self.check_range(sector, buf.len())?;
        }
        let mut result = Ok(());
        let mut next = 0;
        while next < runs.len() {
            let mut queue = self.queue.lock();
            let max_data = queue.size() as usize - 2;
            let mut heads = [0u16; MAX_BATCH];
            let mut k = 0;
            // A run too scattered for one request goes alone, after the group.
            let mut alone = None;
            while next < runs.len() && k < MAX_BATCH {
                let (sector, buf) = runs[next];
                if buf.is_empty() {
                    next += 1;
                    continue;
                }
                let mut segs = [NO_SEGMENT; MAX_SIZE as usize];
                let va = buf.as_ptr() as u64;
                let (n, bytes) = data_segments(va, buf.len(), &mut segs[..max_data], false);
                if bytes < buf.len() {
                    alone = Some(runs[next]);
                    next += 1;
                    break;
                }
                if n + 2 > queue.num_free() as usize {
                    break;
                }
                match self.push(&mut queue, k, T_OUT, sector, n, |j| segs[j]) {
                    Ok(head) => heads[k] = head,
                    Err(e) => {
                        let _ = self.complete(&mut queue, &heads[..k]);
                        return Err(e);
                    }
                }
                k += 1;
                next += 1;
            }
            if k > 0 {
                result = result.and(self.complete(&mut queue, &heads[..k]));
            }
            drop(queue);
            match alone {
                Some((sector, buf)) => result = result.and(self.write(sector, buf)),
                // Nothing fitted in an emptied queue: give up rather than loop.
                None if k == 0 => return result.and(Err(BlockError::OutOfRange)),
                None => {}
            }
        }
        result
    }

    /// Writes `n` 4 KiB frames, frame `i` (guest-physical, anywhere in
    /// memory) to the 8 sectors at `page(i).0` (`page(i)` is `(sector,
    /// frame)`): each run of consecutive sectors in one request, all sent
    /// together (one notification while the queue holds them; swap-out
    /// batches). `OutOfRange` when a page is past the disk's end (nothing
    /// is sent then); otherwise every request is sent and the first failure
    /// is returned.
    pub fn write_pages(
        &self,
        n: usize,
        page: impl Fn(usize) -> (u64, u64),
    ) -> Result<(), BlockError> {
        self.page_requests(T_OUT, n, page)
    }

    /// Reads `n` 4 KiB frames as [`BlockDevice::write_pages`] writes them
    /// (swap-in with read-ahead).
    pub fn read_pages(
        &self,
        n: usize,
        page: impl Fn(usize) -> (u64, u64),
    ) -> Result<(), BlockError> {
        self.page_requests(T_IN, n, page)
    }

    fn page_requests(
        &self,
        kind: u32,
        n: usize,
        page: impl Fn(usize) -> (u64, u64),
    ) -> Result<(), BlockError> {
        for i in 0..n {
            // A whole page is whole sectors: only `OutOfRange` can come.
            self.check_range(page(i).0, abi::layout::PAGE_SIZE as usize)?;
        }
        let device_writes = kind == T_IN;
        let mut queue = self.queue.lock();
        let max_frames = queue.size() as usize - 2;
        let mut result = Ok(());
        let mut next = 0;
        while next < n {
            let mut heads = [0u16; MAX_BATCH];
            let mut k = 0;
            while next < n && k < MAX_BATCH {
                let first = page(next).0;
                let len = run_len(n - next, max_frames, |j| page(next + j).0);
                if len + 2 > queue.num_free() as usize {
                    break;
                }
                let seg = |j: usize| Segment {
                    addr: page(next + j).1,
                    len: 4096,
                    device_writes,
                };
                match self.push(&mut queue, k, kind, first, len, seg) {
                    Ok(head) => heads[k] = head,
                    Err(e) => {
                        // Let the requests already published finish first.
                        let _ = self.complete(&mut queue, &heads[..k]);
                        return Err(e);
                    }
                }
                k += 1;
                next += len;
            }
            let group = self.complete(&mut queue, &heads[..k]);
            if k == 0 {
                // Nothing fitted in the queue (it cannot be, with every
                // earlier request completed): give up rather than loop.
                return group;
            }
            result = result.and(group);
        }
        result
    }
}
