//! The run's private view of its file-system image: the image file (normally
//! a cached image that every run shares, [`crate::image_cache`]) mapped
//! copy-on-write (`MAP_PRIVATE`). A run reads the shared pages and writes only
//! private copies of the pages it changes; nothing reaches the file, and
//! nothing is left behind however the run ends. An image without a file (no
//! `--user-dir`) is an anonymous mapping of zeros.
//!
//! The view is both the virtio block device's [`Backend`] (the guest's disk)
//! and an [`ImageStore`] (for `--put` before the run and `--get` after it);
//! clones share the mapping.

use std::fs::File;
use std::io;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use vm_memory::mmap::MmapRegion;
use vm_memory::{Bytes, FileOffset, VolatileMemory};

use crate::fsimage::ImageStore;
use crate::virtio::backend::Backend;

/// Writes of at least this many bytes have their pages made present in one
/// call first, not a host page fault each.
const POPULATE_MIN: usize = 64 << 10;

/// A private mapping of an image.
#[derive(Clone, Debug)]
pub struct CowView {
    region: Arc<MmapRegion<()>>,
}

impl CowView {
    /// Maps all of `file` copy-on-write (the file may be open read-only).
    /// Fails if the file is empty, too large for the host, or cannot be mapped.
    pub fn of_file(file: File) -> Result<CowView> {
        let len = file.metadata().context("reading the image's size")?.len();
        let size = usize::try_from(len).context("the image does not fit the host")?;
        if size == 0 {
            bail!("the image is empty");
        }
        let region = MmapRegion::build(
            Some(FileOffset::new(file, 0)),
            size,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE,
        )
        .map_err(|e| anyhow::anyhow!("mapping the image: {e}"))?;
        Ok(CowView {
            region: Arc::new(region),
        })
    }

    /// A private mapping of `size` zero bytes. Fails if it cannot be mapped.
    pub fn anonymous(size: u64) -> Result<CowView> {
        let size = usize::try_from(size).context("the image does not fit the host")?;
        let region = MmapRegion::build(
            None,
            size,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
        )
        .map_err(|e| anyhow::anyhow!("mapping an empty image of {size} bytes: {e}"))?;
        Ok(CowView {
            region: Arc::new(region),
        })
    }

    fn len(&self) -> u64 {
        self.region.size() as u64
    }

    /// `offset` as an index into the mapping, if `len` bytes from it fit.
    fn at(&self, offset: u64, len: usize) -> io::Result<usize> {
        let start = usize::try_from(offset).map_err(|_| io::ErrorKind::InvalidInput)?;
        match start.checked_add(len) {
            Some(end) if end <= self.region.size() => Ok(start),
            _ => Err(io::ErrorKind::UnexpectedEof.into()),
        }
    }
}

fn io_error(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(e.to_string())
}

impl ImageStore for CowView {
    fn size(&self) -> io::Result<u64> {
        Ok(self.len())
    }

    /// The mapping has a fixed size: any size up to it is accepted (an
    /// image's superblock says how much of it is used).
    fn set_size(&self, size: u64) -> io::Result<()> {
        if size > self.len() {
            return Err(io::ErrorKind::InvalidInput.into());
        }
        Ok(())
    }

    fn read_bytes_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        let at = self.at(offset, buf.len())?;
        self.region
            .as_volatile_slice()
            .read_slice(buf, at)
            .map_err(io_error)
    }

    fn write_bytes_at(&self, buf: &[u8], offset: u64) -> io::Result<()> {
        let at = self.at(offset, buf.len())?;
        if buf.len() >= POPULATE_MIN {
            crate::memory::populate_write(&self.region, at, buf.len());
        }
        self.region
            .as_volatile_slice()
            .write_slice(buf, at)
            .map_err(io_error)
    }
}

impl Backend for CowView {
    fn capacity(&self) -> u64 {
        self.len() - self.len() % abi::device::SECTOR_SIZE
    }

    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        ImageStore::read_bytes_at(self, buf, offset)
    }

    fn write_at(&mut self, offset: u64, buf: &[u8]) -> io::Result<()> {
        ImageStore::write_bytes_at(self, buf, offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::FileExt;

    #[test]
    fn writes_stay_private_and_clones_share_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("base.img");
        std::fs::write(&path, vec![7u8; 8192]).unwrap();
        let file = File::open(&path).unwrap(); // read-only is enough
        let mut view = CowView::of_file(file).unwrap();
        assert_eq!(view.capacity(), 8192);
        view.write_at(4000, b"private").unwrap();
        let other = view.clone();
        let mut buf = [0u8; 9];
        other.read_bytes_at(&mut buf, 3999).unwrap();
        assert_eq!(&buf, b"\x07private\x07");
        // The file itself is unchanged, and so is a second view of it.
        let mut on_disk = [0u8; 7];
        File::open(&path)
            .unwrap()
            .read_exact_at(&mut on_disk, 4000)
            .unwrap();
        assert_eq!(on_disk, [7; 7]);
        let fresh = CowView::of_file(File::open(&path).unwrap()).unwrap();
        fresh.read_bytes_at(&mut on_disk, 4000).unwrap();
        assert_eq!(on_disk, [7; 7]);
        // Outside the mapping.
        assert!(view.read_at(8190, &mut buf).is_err());
        assert!(view.write_at(u64::MAX, b"x").is_err());
        assert!(view.set_size(8192).is_ok() && view.set_size(8193).is_err());
    }

    #[test]
    fn a_large_write_lands_whole_and_stays_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("base.img");
        std::fs::write(&path, vec![7u8; 1 << 20]).unwrap();
        let view = CowView::of_file(File::open(&path).unwrap()).unwrap();
        // Past `POPULATE_MIN`, at an offset inside a page.
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        view.write_bytes_at(&data, 1000).unwrap();
        let mut back = vec![0u8; data.len() + 2];
        view.read_bytes_at(&mut back, 999).unwrap();
        assert_eq!(back[0], 7);
        assert_eq!(&back[1..=data.len()], &data[..]);
        assert_eq!(back[data.len() + 1], 7);
        assert_eq!(std::fs::read(&path).unwrap(), vec![7u8; 1 << 20]);
    }

    #[test]
    fn anonymous_views_start_as_zeros() {
        let mut view = CowView::anonymous(1 << 20).unwrap();
        let mut buf = [1u8; 16];
        view.read_at((1 << 20) - 16, &mut buf).unwrap();
        assert_eq!(buf, [0; 16]);
        view.write_at(0, b"x").unwrap();
        let empty = tempfile::tempfile().unwrap();
        assert!(CowView::of_file(empty).is_err());
    }
}
