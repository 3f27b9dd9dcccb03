//! Where a file-system image's bytes live: [`ImageStore`], implemented by a
//! host file (a `--disk` image, a cached image being built) and by the run's
//! copy-on-write view of a cached image (`crate::cow_view::CowView`).

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

/// Byte-addressed storage for a file-system image.
pub trait ImageStore {
    /// Size in bytes.
    fn size(&self) -> io::Result<u64>;
    /// Makes the size `size` bytes (new bytes read as zeros). Fails if the
    /// store cannot take that size.
    fn set_size(&self, size: u64) -> io::Result<()>;
    /// Fills `buf` from `offset`; fails if the range is outside the store.
    fn read_bytes_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()>;
    /// Writes `buf` at `offset`; fails if the range is outside the store (a
    /// file grows instead).
    fn write_bytes_at(&self, buf: &[u8], offset: u64) -> io::Result<()>;
}

impl ImageStore for File {
    fn size(&self) -> io::Result<u64> {
        Ok(self.metadata()?.len())
    }

    fn set_size(&self, size: u64) -> io::Result<()> {
        self.set_len(size)
    }

    fn read_bytes_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        FileExt::read_exact_at(self, buf, offset)
    }

    fn write_bytes_at(&self, buf: &[u8], offset: u64) -> io::Result<()> {
        FileExt::write_all_at(self, buf, offset)
    }
}
