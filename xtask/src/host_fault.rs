//! The host's own Linux minor-fault cost, the floor the guest's fault figures
//! are compared with: xtask maps fresh anonymous memory (`MAP_PRIVATE |
//! MAP_ANONYMOUS`, no `MAP_POPULATE`, transparent huge pages turned off for
//! the range so every 4 KiB page faults on its own), writes one byte per page
//! and times the loop with the TSC and with [`Instant`].

use std::ptr;
use std::time::Instant;

use anyhow::{Result, bail};

const PAGE: usize = 4096;

/// The cost of one host minor fault (first touch of an anonymous page).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HostFault {
    /// TSC cycles per page.
    pub cycles: f64,
    /// Wall-clock nanoseconds per page.
    pub ns: f64,
}

/// An anonymous private mapping, unmapped on drop.
struct Mapping {
    base: *mut u8,
    len: usize,
}

impl Mapping {
    fn new(len: usize) -> Result<Mapping> {
        // SAFETY: an anonymous mapping at an address the kernel picks touches
        // no existing memory; the result is checked before use.
        let base = unsafe {
            libc::mmap(
                ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            bail!(
                "cannot map {len} bytes of anonymous memory: {}",
                std::io::Error::last_os_error()
            );
        }
        let mapping = Mapping {
            base: base.cast(),
            len,
        };
        // Without this a 2 MiB-aligned stretch may be served by one huge-page
        // fault. A host without THP rejects the advice; that is fine.
        // SAFETY: the range is the mapping just created.
        unsafe { libc::madvise(base, len, libc::MADV_NOHUGEPAGE) };
        Ok(mapping)
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: `base..base+len` is the mapping this value owns; nothing
        // refers to it after drop.
        unsafe { libc::munmap(self.base.cast(), self.len) };
    }
}

/// Touches `pages` fresh pages once; returns (cycles, ns) per page.
fn one_run(pages: usize) -> Result<HostFault> {
    let map = Mapping::new(pages * PAGE)?;
    let start = Instant::now();
    // SAFETY: `rdtsc` has no side effects and is available on every x86-64 CPU.
    let tsc = unsafe { core::arch::x86_64::_rdtsc() };
    for i in 0..pages {
        // SAFETY: page `i` lies inside the writable mapping of `pages` pages.
        unsafe { map.base.add(i * PAGE).write_volatile(i as u8 | 1) };
    }
    // SAFETY: `rdtsc` only reads the time-stamp counter, as for `tsc`.
    let cycles = unsafe { core::arch::x86_64::_rdtsc() } - tsc;
    let ns = start.elapsed().as_nanos();
    Ok(HostFault {
        cycles: cycles as f64 / pages as f64,
        ns: ns as f64 / pages as f64,
    })
}

/// The median over `runs` runs of touching `pages` fresh pages.
pub fn measure(pages: usize, runs: usize) -> Result<HostFault> {
    let pages = pages.max(1);
    let mut samples = (0..runs.max(1))
        .map(|_| one_run(pages))
        .collect::<Result<Vec<_>>>()?;
    samples.sort_by(|a, b| a.cycles.total_cmp(&b.cycles));
    Ok(samples[samples.len() / 2])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minor_fault_costs_something_but_not_a_millisecond() {
        let f = measure(256, 3).unwrap();
        assert!(f.cycles > 100.0, "{f:?}");
        assert!(f.ns > 20.0 && f.ns < 1_000_000.0, "{f:?}");
    }
}
