//! Copying many files into an image at once ([`FsImage::put_each`]): every
//! file placed first, then read through one buffer and written, files that
//! replace their own old copy only once every file was read.

use abi::fs::DirEntry;
use anyhow::{Context, Result, bail};

use super::{FsImage, ImageStore, SECTOR_U64};

impl<S: ImageStore> FsImage<S> {
    /// Stores every `(name, data)` like [`FsImage::put`] on each in order,
    /// with one write per file and one for the directory (see
    /// [`FsImage::put_each`]).
    pub fn put_all(&mut self, files: &[(String, Vec<u8>)]) -> Result<()> {
        let sizes = files.iter().map(|(name, data)| (name.as_str(), data.len()));
        self.put_each(sizes, |i, buf| {
            buf.extend_from_slice(&files[i].1);
            Ok(())
        })
    }

    /// Stores the files `files` (name and size) like [`FsImage::put`] on
    /// each in order, `read(i, buf)` appending the bytes of the `i`th to the
    /// empty `buf`. Every file is placed before any is read; one buffer then
    /// serves them all (a boot copies every user program in, and fresh host
    /// memory, a page fault per page, cost more than the copying), with one
    /// write per file and one for the directory at the end. A file placed
    /// over sectors in use before (its own old copy) is written only after
    /// every file was read, and not at all when those sectors already hold
    /// its bytes, so a failure never leaves the old directory naming
    /// overwritten data. Fails, with the directory on disk as it was, when a
    /// file does not fit (naming it), when `read` fails or reads other than
    /// the size given (a file that changed meanwhile), or when the store
    /// fails.
    pub fn put_each<'n>(
        &mut self,
        files: impl IntoIterator<Item = (&'n str, usize)>,
        read: impl FnMut(usize, &mut Vec<u8>) -> Result<()>,
    ) -> Result<()> {
        let before = self.entries.clone();
        let result = self.place_and_write(&before, files, read);
        if result.is_err() {
            self.entries = before;
        }
        result
    }

    /// [`FsImage::put_each`] without putting the entries back on failure;
    /// `before` is the directory as it was.
    fn place_and_write<'n>(
        &mut self,
        before: &[DirEntry],
        files: impl IntoIterator<Item = (&'n str, usize)>,
        mut read: impl FnMut(usize, &mut Vec<u8>) -> Result<()>,
    ) -> Result<()> {
        let mut placed = Vec::new();
        for (name, len) in files {
            let (index, entry) = self.place(name, len)?;
            self.entries[index] = entry;
            placed.push((name, entry));
        }
        let overlaps = |e: &DirEntry| {
            let (start, end) = e.extent();
            before.iter().any(|old| {
                let (s, t) = old.extent();
                old.in_use() && s < end && start < t
            })
        };
        let (mut buf, mut old) = (Vec::new(), Vec::new());
        let mut deferred = Vec::new();
        for (i, (name, entry)) in placed.into_iter().enumerate() {
            buf.clear();
            read(i, &mut buf)?;
            if buf.len() != entry.size as usize {
                bail!(
                    "`{name}` changed while it was copied in ({} bytes, then {})",
                    entry.size,
                    buf.len()
                );
            }
            buf.resize(
                (abi::fs::sectors_for(buf.len() as u64) * SECTOR_U64) as usize,
                0,
            );
            let offset = entry.start as u64 * SECTOR_U64;
            if !overlaps(&entry) {
                self.write_data(name, &buf, offset)?;
                continue;
            }
            old.resize(buf.len(), 0);
            let same = self.store.read_bytes_at(&mut old, offset).is_ok() && old == buf;
            if !same {
                deferred.push((name, buf.clone(), offset));
            }
        }
        for (name, data, offset) in deferred {
            self.write_data(name, &data, offset)?;
        }
        let table: Vec<u8> = self.entries.iter().flat_map(|e| e.to_bytes()).collect();
        self.store
            .write_bytes_at(&table, self.sb.dir_start * SECTOR_U64)
            .with_context(|| format!("writing the directory of {}", self.label))
    }

    /// Writes `data` of file `name` at byte `offset`.
    fn write_data(&self, name: &str, data: &[u8], offset: u64) -> Result<()> {
        self.store
            .write_bytes_at(data, offset)
            .with_context(|| format!("writing `{name}` into {}", self.label))
    }
}
