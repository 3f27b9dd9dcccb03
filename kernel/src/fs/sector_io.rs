//! The file system's view of a disk: whole 512-byte sectors by number.
//!
//! The volume logic is written against [`SectorIo`] so it runs on the host in
//! unit tests against an in-memory disk; in the kernel the virtio block
//! device implements it.

use super::FsError;
use crate::dev::BlockDevice;

/// A disk of 512-byte sectors.
pub trait SectorIo {
    /// Number of sectors.
    fn sectors(&self) -> u64;
    /// Reads `buf.len() / 512` sectors from `sector` (`buf.len()` is a multiple of 512).
    fn read_sectors(&self, sector: u64, buf: &mut [u8]) -> Result<(), FsError>;
    /// Writes `buf.len() / 512` sectors at `sector` (`buf.len()` is a multiple of 512).
    fn write_sectors(&self, sector: u64, buf: &[u8]) -> Result<(), FsError>;
    /// Writes each `(sector, bytes)` run as [`SectorIo::write_sectors`]
    /// would, one after another; a disk may send them together (the
    /// virtio disk: one notification for up to 32). On an error some runs
    /// may have been written and others not.
    fn write_runs(&self, runs: &[(u64, &[u8])]) -> Result<(), FsError> {
        write_each(self, runs)
    }
    /// Makes the writes to the `count` sectors from `first` durable on the
    /// disk (a cache writes them back; a plain disk has nothing to do).
    fn flush_sectors(&self, first: u64, count: u64) -> Result<(), FsError> {
        let _ = (first, count);
        Ok(())
    }
}

/// Writes `runs` one [`SectorIo::write_sectors`] after another, stopping at
/// the first failure (the default [`SectorIo::write_runs`]).
fn write_each<D: SectorIo + ?Sized>(disk: &D, runs: &[(u64, &[u8])]) -> Result<(), FsError> {
    runs.iter()
        .try_for_each(|&(sector, buf)| disk.write_sectors(sector, buf))
}

impl<T: SectorIo + ?Sized> SectorIo for &T {
    fn sectors(&self) -> u64 {
        (**self).sectors()
    }

    fn read_sectors(&self, sector: u64, buf: &mut [u8]) -> Result<(), FsError> {
        (**self).read_sectors(sector, buf)
    }

    fn write_sectors(&self, sector: u64, buf: &[u8]) -> Result<(), FsError> {
        (**self).write_sectors(sector, buf)
    }

    fn write_runs(&self, runs: &[(u64, &[u8])]) -> Result<(), FsError> {
        (**self).write_runs(runs)
    }

    fn flush_sectors(&self, first: u64, count: u64) -> Result<(), FsError> {
        (**self).flush_sectors(first, count)
    }
}

impl SectorIo for BlockDevice {
    fn sectors(&self) -> u64 {
        self.capacity()
    }

    fn read_sectors(&self, sector: u64, buf: &mut [u8]) -> Result<(), FsError> {
        self.read(sector, buf).map_err(|_| FsError::Io)
    }

    fn write_sectors(&self, sector: u64, buf: &[u8]) -> Result<(), FsError> {
        self.write(sector, buf).map_err(|_| FsError::Io)
    }

    fn write_runs(&self, runs: &[(u64, &[u8])]) -> Result<(), FsError> {
        BlockDevice::write_runs(self, runs).map_err(|_| FsError::Io)
    }
}

/// An in-memory disk for host tests.
#[cfg(test)]
pub struct MemDisk(pub std::sync::Mutex<Vec<u8>>);

#[cfg(test)]
impl MemDisk {
    /// A zeroed disk of `sectors` sectors.
    pub fn new(sectors: u64) -> MemDisk {
        MemDisk(std::sync::Mutex::new(vec![0; sectors as usize * 512]))
    }

    fn range(&self, sector: u64, len: usize) -> Result<core::ops::Range<usize>, FsError> {
        let start = sector as usize * 512;
        let ok = len.is_multiple_of(512) && start + len <= self.0.lock().unwrap().len();
        ok.then_some(start..start + len).ok_or(FsError::Io)
    }
}

#[cfg(test)]
impl SectorIo for MemDisk {
    fn sectors(&self) -> u64 {
        self.0.lock().unwrap().len() as u64 / 512
    }

    fn read_sectors(&self, sector: u64, buf: &mut [u8]) -> Result<(), FsError> {
        let r = self.range(sector, buf.len())?;
        buf.copy_from_slice(&self.0.lock().unwrap()[r]);
        Ok(())
    }

    fn write_sectors(&self, sector: u64, buf: &[u8]) -> Result<(), FsError> {
        let r = self.range(sector, buf.len())?;
        self.0.lock().unwrap()[r].copy_from_slice(buf);
        Ok(())
    }
}

/// A [`MemDisk`] that counts requests and fails them while `failing` is set.
#[cfg(test)]
pub struct CountingDisk {
    /// The disk's bytes.
    pub mem: MemDisk,
    /// Read requests so far.
    pub reads: std::cell::Cell<u64>,
    /// Write requests so far.
    pub writes: std::cell::Cell<u64>,
    /// `write_runs` calls so far (each also counts its runs in `writes`).
    pub write_groups: std::cell::Cell<u64>,
    /// While set, every request fails with `FsError::Io`.
    pub failing: std::cell::Cell<bool>,
}

#[cfg(test)]
impl CountingDisk {
    /// A zeroed disk of `sectors` sectors that has served no request.
    pub fn new(sectors: u64) -> CountingDisk {
        CountingDisk {
            mem: MemDisk::new(sectors),
            reads: std::cell::Cell::new(0),
            writes: std::cell::Cell::new(0),
            write_groups: std::cell::Cell::new(0),
            failing: std::cell::Cell::new(false),
        }
    }

    /// The bytes of sector `s` as stored (not counted as a read). Panics
    /// if `s` is past the end (a test's own mistake).
    pub fn sector(&self, s: u64) -> Vec<u8> {
        let mut buf = vec![0; abi::fs::SECTOR];
        self.mem.read_sectors(s, &mut buf).unwrap();
        buf
    }
}

#[cfg(test)]
impl SectorIo for CountingDisk {
    fn sectors(&self) -> u64 {
        self.mem.sectors()
    }

    fn read_sectors(&self, sector: u64, buf: &mut [u8]) -> Result<(), FsError> {
        self.reads.set(self.reads.get() + 1);
        if self.failing.get() {
            return Err(FsError::Io);
        }
        self.mem.read_sectors(sector, buf)
    }

    fn write_sectors(&self, sector: u64, buf: &[u8]) -> Result<(), FsError> {
        self.writes.set(self.writes.get() + 1);
        if self.failing.get() {
            return Err(FsError::Io);
        }
        self.mem.write_sectors(sector, buf)
    }

    fn write_runs(&self, runs: &[(u64, &[u8])]) -> Result<(), FsError> {
        self.write_groups.set(self.write_groups.get() + 1);
        write_each(self, runs)
    }
}
