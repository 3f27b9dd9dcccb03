//! Host-side access to a file-system image in the "fltfs" format of
//! `abi::fs`: create an image, copy files in before a run and out after it.
//! Used by the VMM (`--user-dir`, `--put`, `--get`, `--disk`), xtask and tests.
//!
//! The image's bytes live in an [`ImageStore`]: a host file, or the run's
//! private copy-on-write mapping of a cached image ([`store`]).

mod put_each;
pub mod store;

use std::fs::{File, OpenOptions};
use std::path::Path;

pub use store::ImageStore;

use abi::fs::{
    DEFAULT_DIR_ENTRIES, DIRENT_SIZE, DirEntry, NameError, SECTOR, SuperBlock, check_directory,
    check_superblock,
};
use anyhow::{Context, Result, anyhow, bail};

const SECTOR_U64: u64 = SECTOR as u64;

/// An open file-system image in store `S`.
#[derive(Debug)]
pub struct FsImage<S: ImageStore = File> {
    store: S,
    /// Names the image in messages.
    label: String,
    sb: SuperBlock,
    entries: Vec<DirEntry>,
}

/// The superblock of a new image of `size` bytes (rounded down to whole
/// sectors) with the default number of directory entries, or why there is none.
pub fn new_superblock(size: u64) -> Result<SuperBlock> {
    let total_sectors = size / SECTOR_U64;
    let sb = SuperBlock::new(total_sectors, DEFAULT_DIR_ENTRIES);
    if total_sectors <= sb.data_start || total_sectors > u64::from(u32::MAX) {
        bail!(
            "size {size} is out of range ({} to {} bytes)",
            (sb.data_start + 1) * SECTOR_U64,
            u64::from(u32::MAX) * SECTOR_U64
        );
    }
    Ok(sb)
}

impl FsImage<File> {
    /// Creates (or overwrites) an empty image of `size` bytes (rounded down to
    /// whole sectors) with the default number of directory entries.
    pub fn create(path: &Path, size: u64) -> Result<FsImage> {
        let label = path.display().to_string();
        new_superblock(size).with_context(|| format!("cannot create file-system image {label}"))?;
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
            .with_context(|| format!("creating file-system image {label}"))?;
        FsImage::format(file, size, label)
    }

    /// Opens an existing image file and checks all of it (see
    /// [`FsImage::load`]). Fails with what is wrong; the message does not
    /// name the file (callers do, e.g. `--disk IMAGE: ...`).
    pub fn open(path: &Path) -> Result<FsImage> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .context("cannot open it")?;
        FsImage::load(file, path.display().to_string())
    }
}

impl<S: ImageStore> FsImage<S> {
    /// Makes `store` an empty image of `size` bytes (rounded down to whole
    /// sectors): sizes it and writes the superblock (the directory must read
    /// as zeros, as a new file or mapping does). `label` names it in messages.
    pub fn format(store: S, size: u64, label: String) -> Result<FsImage<S>> {
        let sb = new_superblock(size)
            .with_context(|| format!("cannot create file-system image {label}"))?;
        store
            .set_size(sb.total_sectors * SECTOR_U64)
            .with_context(|| format!("sizing file-system image {label}"))?;
        store
            .write_bytes_at(&sb.to_bytes(), 0)
            .with_context(|| format!("writing the superblock of {label}"))?;
        Ok(FsImage {
            store,
            label,
            sb,
            entries: vec![DirEntry::default(); sb.dir_entries as usize],
        })
    }

    /// Reads the image in `store` and checks all of it: the superblock
    /// against the store's size and every directory entry
    /// (`abi::fs::check_superblock` and `check_directory`, the checks the
    /// kernel makes when it mounts). Fails with what is wrong (without
    /// `label`: callers name the image).
    pub fn load(store: S, label: String) -> Result<FsImage<S>> {
        let len = store.size().context("cannot read its size")?;
        let mut sector = [0u8; SECTOR];
        let have = if len >= SECTOR_U64 { SECTOR } else { 0 };
        store
            .read_bytes_at(&mut sector[..have], 0)
            .context("cannot read its superblock")?;
        let sb = check_superblock(&sector[..have], len / SECTOR_U64).map_err(|e| anyhow!("{e}"))?;
        let mut table = vec![0u8; sb.dir_entries as usize * DIRENT_SIZE];
        store
            .read_bytes_at(&mut table, sb.dir_start * SECTOR_U64)
            .context("cannot read its directory")?;
        let entries: Vec<DirEntry> = table
            .chunks_exact(DIRENT_SIZE)
            .map(DirEntry::from_bytes)
            .collect();
        let mut scratch = vec![0u32; entries.len()];
        check_directory(&sb, &entries, &mut scratch).map_err(|e| anyhow!("{e}"))?;
        Ok(FsImage {
            store,
            label,
            sb,
            entries,
        })
    }

    /// Checks the superblock and the directory as they stand (what
    /// [`FsImage::open`] checks, without reading the file again). Fails with
    /// what is wrong.
    pub fn check(&self) -> Result<()> {
        let mut scratch = vec![0u32; self.entries.len()];
        check_directory(&self.sb, &self.entries, &mut scratch).map_err(|e| anyhow!("{e}"))
    }

    /// The store holding the image.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Gives the store back.
    pub fn into_store(self) -> S {
        self.store
    }

    /// The superblock.
    pub fn superblock(&self) -> &SuperBlock {
        &self.sb
    }

    fn find(&self, name: &[u8]) -> Option<usize> {
        self.entries
            .iter()
            .position(|e| e.in_use() && e.name() == name)
    }

    fn write_entry(&mut self, index: usize, entry: DirEntry) -> Result<()> {
        let offset = self.sb.dir_start * SECTOR_U64 + (index * DIRENT_SIZE) as u64;
        self.store
            .write_bytes_at(&entry.to_bytes(), offset)
            .with_context(|| format!("writing the directory of {}", self.label))?;
        self.entries[index] = entry;
        Ok(())
    }

    /// Chooses where `name` (of `len` bytes) goes: its directory index (the
    /// existing entry of that name, or a free one) and its first sector.
    fn place(&self, name: &str, len: usize) -> Result<(usize, DirEntry)> {
        check_name(name)?;
        let size = u32::try_from(len)
            .ok()
            .with_context(|| format!("`{name}` is too large ({len} bytes)"))?;
        let existing = self.find(name.as_bytes());
        let mut used: Vec<(u64, u64)> = self
            .entries
            .iter()
            .enumerate()
            .filter(|&(i, e)| e.in_use() && Some(i) != existing)
            .map(|(_, e)| e.extent())
            .collect();
        let sectors = abi::fs::sectors_for(len as u64);
        let Some(start) = abi::fs::find_free_extent(&mut used, &self.sb, sectors) else {
            bail!(
                "file system full: no room for `{name}` ({len} bytes) in {} (use a larger --fs-size)",
                self.label
            );
        };
        let Some(index) = existing.or_else(|| self.entries.iter().position(|e| !e.in_use())) else {
            bail!(
                "directory full ({} entries): cannot add `{name}` to {}",
                self.sb.dir_entries,
                self.label
            );
        };
        let start = u32::try_from(start).context("extent start out of range")?;
        Ok((index, DirEntry::new(name.as_bytes(), start, size)))
    }

    /// `data` padded to whole sectors.
    fn padded(data: &[u8]) -> Vec<u8> {
        let mut padded = data.to_vec();
        padded.resize(
            (abi::fs::sectors_for(data.len() as u64) * SECTOR_U64) as usize,
            0,
        );
        padded
    }

    /// Stores `data` as `name`, replacing an existing file of that name.
    pub fn put(&mut self, name: &str, data: &[u8]) -> Result<()> {
        let (index, entry) = self.place(name, data.len())?;
        self.store
            .write_bytes_at(&Self::padded(data), entry.start as u64 * SECTOR_U64)
            .with_context(|| format!("writing `{name}` into {}", self.label))?;
        self.write_entry(index, entry)
    }

    /// The contents of `name`, or `None` if there is no such file.
    pub fn get(&self, name: &str) -> Result<Option<Vec<u8>>> {
        let Some(index) = self.find(name.as_bytes()) else {
            return Ok(None);
        };
        let e = self.entries[index];
        let (start, end) = e.extent();
        if start < self.sb.data_start || end > self.sb.total_sectors {
            bail!(
                "corrupt directory entry for `{name}` in {} (sectors {start}..{end})",
                self.label
            );
        }
        let mut data = vec![0u8; e.size as usize];
        self.store
            .read_bytes_at(&mut data, start * SECTOR_U64)
            .with_context(|| format!("reading `{name}` from {}", self.label))?;
        Ok(Some(data))
    }

    /// Names and sizes of all files, in directory order.
    pub fn list(&self) -> Result<Vec<(String, u64)>> {
        Ok(self
            .entries
            .iter()
            .filter(|e| e.in_use())
            .map(|e| {
                (
                    String::from_utf8_lossy(e.name()).into_owned(),
                    u64::from(e.size),
                )
            })
            .collect())
    }

    /// Deletes `name`; returns whether it existed.
    pub fn remove(&mut self, name: &str) -> Result<bool> {
        match self.find(name.as_bytes()) {
            Some(index) => {
                self.write_entry(index, DirEntry::default())?;
                Ok(true)
            }
            None => Ok(false),
        }
    }
}

/// Checks a guest file name, with an error naming it.
fn check_name(name: &str) -> Result<()> {
    match abi::fs::validate_name(name.as_bytes()) {
        Ok(()) => Ok(()),
        Err(NameError::Empty) => bail!("bad guest file name: empty"),
        Err(NameError::TooLong) => bail!(
            "bad guest file name `{name}`: longer than {} bytes",
            abi::syscall::NAME_MAX
        ),
        Err(NameError::BadChar) => {
            bail!("bad guest file name `{name}`: contains a space, '/' or NUL")
        }
    }
}

#[cfg(test)]
mod tests;
