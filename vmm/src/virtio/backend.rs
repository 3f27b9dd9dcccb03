//! Storage behind a virtio block device: a host file (the file-system disk and
//! `--swap-file`) or a buffer in host memory (`--swap`).

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;

use anyhow::{Context, Result};
use vm_memory::mmap::MmapRegion;
use vm_memory::{Bytes, VolatileMemory};

/// Byte-addressed storage of a fixed capacity.
pub trait Backend: Send {
    /// Capacity in bytes (a multiple of the sector size).
    fn capacity(&self) -> u64;
    /// Fills `buf` from `offset`; the range lies within the capacity.
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<()>;
    /// Writes `buf` at `offset`; the range lies within the capacity.
    fn write_at(&mut self, offset: u64, buf: &[u8]) -> io::Result<()>;
}

/// A host file, read and written with `pread`/`pwrite`.
pub struct FileBackend {
    file: File,
    capacity: u64,
}

impl FileBackend {
    /// Opens an existing image; its capacity is its length rounded down to sectors.
    pub fn open(path: &Path) -> Result<FileBackend> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .with_context(|| format!("opening disk image {}", path.display()))?;
        let len = file
            .metadata()
            .with_context(|| format!("reading the size of {}", path.display()))?
            .len();
        Ok(FileBackend {
            file,
            capacity: len - len % abi::device::SECTOR_SIZE,
        })
    }

    /// Opens or creates `path` and extends it to at least `size` bytes; the
    /// capacity is `size`.
    pub fn create(path: &Path, size: u64) -> Result<FileBackend> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .with_context(|| format!("opening swap file {}", path.display()))?;
        let len = file
            .metadata()
            .with_context(|| format!("reading the size of {}", path.display()))?
            .len();
        if len < size {
            file.set_len(size)
                .with_context(|| format!("extending {} to {size} bytes", path.display()))?;
        }
        Ok(FileBackend {
            file,
            capacity: size - size % abi::device::SECTOR_SIZE,
        })
    }
}

impl Backend for FileBackend {
    fn capacity(&self) -> u64 {
        self.capacity
    }

    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        self.file.read_exact_at(buf, offset)
    }

    fn write_at(&mut self, offset: u64, buf: &[u8]) -> io::Result<()> {
        self.file.write_all_at(buf, offset)
    }
}

/// A disk held in host memory, zero at start and gone at the end of the run:
/// an anonymous private mapping, so only the sectors the guest writes take
/// host memory (a `--swap 1G` costs nothing until the guest swaps), while
/// the host still refuses a size it could never provide.
pub struct MemBackend {
    region: MmapRegion<()>,
}

impl MemBackend {
    /// A zeroed disk of `size` bytes. Fails if it cannot be mapped.
    pub fn new(size: u64) -> Result<MemBackend> {
        let len = usize::try_from(size).context("swap size does not fit the host")?;
        let region = MmapRegion::build(
            None,
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
        )
        .map_err(|e| anyhow::anyhow!("cannot map {size} bytes for the swap disk: {e}"))?;
        Ok(MemBackend { region })
    }

    fn at(&self, offset: u64, len: usize) -> io::Result<usize> {
        let start = usize::try_from(offset).map_err(|_| io::ErrorKind::InvalidInput)?;
        let end = start.checked_add(len).ok_or(io::ErrorKind::InvalidInput)?;
        if end > self.region.size() {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        Ok(start)
    }
}

impl Backend for MemBackend {
    fn capacity(&self) -> u64 {
        self.region.size() as u64
    }

    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        let at = self.at(offset, buf.len())?;
        self.region
            .as_volatile_slice()
            .read_slice(buf, at)
            .map_err(|e| io::Error::other(e.to_string()))
    }

    fn write_at(&mut self, offset: u64, buf: &[u8]) -> io::Result<()> {
        let at = self.at(offset, buf.len())?;
        self.region
            .as_volatile_slice()
            .write_slice(buf, at)
            .map_err(|e| io::Error::other(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(b: &mut dyn Backend) {
        b.write_at(512, b"hello").unwrap();
        let mut buf = [0u8; 7];
        b.read_at(511, &mut buf).unwrap();
        assert_eq!(&buf, b"\0hello\0");
        let cap = b.capacity();
        assert!(b.read_at(cap - 2, &mut buf).is_err());
    }

    #[test]
    fn memory_backend() {
        let mut b = MemBackend::new(4096).unwrap();
        assert_eq!(b.capacity(), 4096);
        round_trip(&mut b);
        assert!(b.write_at(u64::MAX, b"x").is_err());
    }

    #[test]
    fn file_backend_creates_extends_and_keeps() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("swap");
        let mut b = FileBackend::create(&path, 8192).unwrap();
        assert_eq!(b.capacity(), 8192);
        round_trip(&mut b);
        drop(b);
        let b = FileBackend::create(&path, 4096).unwrap();
        assert_eq!(b.capacity(), 4096);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 8192);
        let mut b = FileBackend::open(&path).unwrap();
        assert_eq!(b.capacity(), 8192);
        let mut buf = [0u8; 5];
        b.read_at(512, &mut buf).unwrap();
        assert_eq!(&buf, b"hello");
    }
}
