//! A mounted file system: the superblock, the directory (kept in memory and
//! written through sector by sector, flushed at once when the disk is a
//! cache), extent allocation, the open-inode table and byte-granular reads
//! and writes of file data.
//!
//! Sector-granular I/O goes straight between the disk and the caller's
//! buffer; partial sectors at either end go through a one-sector bounce
//! buffer (read-modify-write for writes).

use alloc::vec::Vec;

use abi::fs::{
    DIRENT_SIZE, DIRENTS_PER_SECTOR, DirEntry, FormatError, SECTOR, SuperBlock, check_directory,
    check_superblock, find_free_extent, sectors_for, validate_name,
};

use super::FsError;
use super::inode::{InodeId, InodeTable, OpenInode};
use super::sector_io::SectorIo;

/// Sectors zeroed per write when a file is created.
const ZERO_CHUNK_SECTORS: u64 = 64;

/// Most directory sectors `mount` reads per disk request.
const MOUNT_BATCH_SECTORS: u64 = 32;

/// Why [`Volume::mount`] (or [`super::init`]) failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MountError {
    /// There is no file-system disk.
    NoDevice,
    /// The disk failed a request.
    Io,
    /// The kernel heap cannot hold the directory.
    NoMemory,
    /// The disk does not hold a valid file system.
    Format(FormatError),
}

impl core::fmt::Display for MountError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            MountError::NoDevice => write!(f, "no file-system disk"),
            MountError::Io => write!(f, "the disk failed a read"),
            MountError::NoMemory => write!(f, "not enough kernel memory for the directory"),
            MountError::Format(e) => write!(f, "bad image: {e}"),
        }
    }
}

/// `n` zeroed elements, allocated fallibly; `None` when the kernel heap is
/// short (callers turn it into their own out-of-memory error).
fn try_zeroed<T: Clone + Default>(n: usize) -> Option<Vec<T>> {
    let mut v = Vec::new();
    v.try_reserve_exact(n).ok()?;
    v.resize(n, T::default());
    Some(v)
}

/// A mounted file system on disk `D`.
pub struct Volume<D> {
    disk: D,
    sb: SuperBlock,
    /// The whole directory table, `sb.dir_entries` entries.
    dir: Vec<DirEntry>,
    inodes: InodeTable,
    /// One sector, for partial-sector I/O.
    bounce: Vec<u8>,
}

impl<D: SectorIo> Volume<D> {
    /// Mounts the file system on `disk`: checks the superblock against the
    /// disk, loads the directory and checks every entry
    /// ([`abi::fs::check_directory`]). Fails with what is wrong with the
    /// image, a disk error, or [`MountError::NoMemory`] when the heap cannot
    /// hold the directory; never panics, whatever the disk holds.
    pub fn mount(disk: D) -> Result<Volume<D>, MountError> {
        let mut sector = try_zeroed::<u8>(SECTOR).ok_or(MountError::NoMemory)?;
        disk.read_sectors(0, &mut sector)
            .map_err(|_| MountError::Io)?;
        let sb = check_superblock(&sector, disk.sectors()).map_err(MountError::Format)?;
        // `check_superblock` bounds `dir_entries` by DIR_ENTRIES_MAX.
        let entries = sb.dir_entries as usize;
        let mut dir: Vec<DirEntry> = Vec::new();
        dir.try_reserve_exact(entries)
            .map_err(|_| MountError::NoMemory)?;
        let mut batch =
            try_zeroed::<u8>(MOUNT_BATCH_SECTORS.min(sb.dir_sectors()) as usize * SECTOR)
                .ok_or(MountError::NoMemory)?;
        let mut next = sb.dir_start;
        while dir.len() < entries {
            let sectors = (sb.dir_sectors() - (next - sb.dir_start)).min(MOUNT_BATCH_SECTORS);
            let bytes = &mut batch[..sectors as usize * SECTOR];
            disk.read_sectors(next, bytes).map_err(|_| MountError::Io)?;
            let left = entries - dir.len();
            dir.extend(
                bytes
                    .chunks_exact(DIRENT_SIZE)
                    .take(left)
                    .map(DirEntry::from_bytes),
            );
            next += sectors;
        }
        drop(batch);
        let mut scratch = try_zeroed::<u32>(entries).ok_or(MountError::NoMemory)?;
        check_directory(&sb, &dir, &mut scratch).map_err(MountError::Format)?;
        Ok(Volume {
            disk,
            sb,
            dir,
            inodes: InodeTable::new(),
            bounce: sector,
        })
    }

    /// Creates `name` with a fixed `size`; its contents read as zeros.
    pub fn create(&mut self, name: &[u8], size: u32) -> Result<(), FsError> {
        validate_name(name).map_err(|_| FsError::BadName)?;
        if self.lookup(name).is_some() {
            return Err(FsError::Exists);
        }
        let slot = self
            .dir
            .iter()
            .position(|e| !e.in_use())
            .ok_or(FsError::DirFull)?;
        let sectors = sectors_for(size as u64);
        let mut used: Vec<(u64, u64)> = Vec::new();
        used.try_reserve_exact(self.dir.len() + self.inodes.removed().count())
            .map_err(|_| FsError::NoMemory)?;
        used.extend(
            self.dir
                .iter()
                .filter(|e| e.in_use())
                .map(DirEntry::extent)
                .chain(
                    self.inodes
                        .removed()
                        .map(|n| (n.start, n.start + sectors_for(n.size))),
                ),
        );
        let start = find_free_extent(&mut used, &self.sb, sectors).ok_or(FsError::NoSpace)?;
        // `total_sectors` fits in u32 (the superblock check), so `start` does.
        let start32 = u32::try_from(start).map_err(|_| FsError::NoSpace)?;

        let zeros = try_zeroed::<u8>((sectors.min(ZERO_CHUNK_SECTORS) as usize) * SECTOR)
            .ok_or(FsError::NoMemory)?;
        let mut done = 0;
        while done < sectors {
            let n = (sectors - done).min(ZERO_CHUNK_SECTORS);
            self.disk
                .write_sectors(start + done, &zeros[..n as usize * SECTOR])?;
            done += n;
        }
        // The zeros reach the disk before the entry that makes them a file.
        self.disk.flush_sectors(start, sectors)?;
        self.dir[slot] = DirEntry::new(name, start32, size);
        self.write_dir_sector(slot)
    }

    /// Takes `name` out of the directory. Its sectors are freed at once if no
    /// file is open on it, else when the last one closes.
    pub fn remove(&mut self, name: &[u8]) -> Result<(), FsError> {
        validate_name(name).map_err(|_| FsError::BadName)?;
        let slot = self.lookup(name).ok_or(FsError::NotFound)?;
        let old = self.dir[slot];
        self.dir[slot] = DirEntry::default();
        if let Err(e) = self.write_dir_sector(slot) {
            self.dir[slot] = old;
            return Err(e);
        }
        if let Some(id) = self.inodes.find_by_dir(slot)
            && let Some(inode) = self.inodes.get_mut(id)
        {
            inode.dir_index = None;
        }
        Ok(())
    }

    /// Opens `name`: the file's shared inode, with its open count raised.
    pub fn open(&mut self, name: &[u8]) -> Result<InodeId, FsError> {
        validate_name(name).map_err(|_| FsError::BadName)?;
        let slot = self.lookup(name).ok_or(FsError::NotFound)?;
        if let Some(id) = self.inodes.find_by_dir(slot) {
            self.reopen(id);
            return Ok(id);
        }
        let e = self.dir[slot];
        self.inodes.insert(OpenInode {
            start: e.start as u64,
            size: e.size as u64,
            dir_index: Some(slot),
            open_count: 1,
            deny_count: 0,
        })
    }

    /// One more `File` refers to inode `id`.
    pub fn reopen(&mut self, id: InodeId) {
        if let Some(n) = self.inodes.get_mut(id) {
            n.open_count += 1;
        }
    }

    /// One `File` of inode `id` is gone; the last one frees the inode (and,
    /// for a removed file, its sectors).
    pub fn close(&mut self, id: InodeId) {
        if let Some(n) = self.inodes.get_mut(id) {
            n.open_count = n.open_count.saturating_sub(1);
            if n.open_count == 0 {
                self.inodes.remove(id);
            }
        }
    }

    /// One more `File` of inode `id` denies writes.
    pub fn deny_write(&mut self, id: InodeId) {
        if let Some(n) = self.inodes.get_mut(id) {
            n.deny_count += 1;
        }
    }

    /// One denying `File` of inode `id` allows writes again.
    pub fn allow_write(&mut self, id: InodeId) {
        if let Some(n) = self.inodes.get_mut(id) {
            n.deny_count = n.deny_count.saturating_sub(1);
        }
    }

    /// The disk the volume is mounted on.
    pub fn disk(&self) -> &D {
        &self.disk
    }

    /// The open inode `id`.
    pub fn inode(&self, id: InodeId) -> Option<&OpenInode> {
        self.inodes.get(id)
    }

    /// Reads from inode `id` at byte `offset` into `buf`; returns the bytes
    /// read, fewer than asked at the end of the file and 0 past it.
    pub fn read_at(&mut self, id: InodeId, buf: &mut [u8], offset: u64) -> Result<usize, FsError> {
        let inode = *self.inodes.get(id).ok_or(FsError::BadFile)?;
        let n = clamp(buf.len(), offset, inode.size);
        let mut done = 0;
        while done < n {
            let pos = offset + done as u64;
            let sector = inode.start + pos / SECTOR as u64;
            let within = (pos % SECTOR as u64) as usize;
            if within == 0 && n - done >= SECTOR {
                let whole = (n - done) / SECTOR * SECTOR;
                self.disk
                    .read_sectors(sector, &mut buf[done..done + whole])?;
                done += whole;
            } else {
                let chunk = (SECTOR - within).min(n - done);
                self.disk.read_sectors(sector, &mut self.bounce)?;
                buf[done..done + chunk].copy_from_slice(&self.bounce[within..within + chunk]);
                done += chunk;
            }
        }
        Ok(n)
    }

    /// Writes `buf` to inode `id` at byte `offset`, stopping at the end of the
    /// file (files never grow). Returns the bytes written: 0 past the end or
    /// while any `File` of the inode denies writes.
    pub fn write_at(&mut self, id: InodeId, buf: &[u8], offset: u64) -> Result<usize, FsError> {
        let inode = *self.inodes.get(id).ok_or(FsError::BadFile)?;
        if inode.deny_count > 0 {
            return Ok(0);
        }
        let n = clamp(buf.len(), offset, inode.size);
        let mut done = 0;
        while done < n {
            let pos = offset + done as u64;
            let sector = inode.start + pos / SECTOR as u64;
            let within = (pos % SECTOR as u64) as usize;
            if within == 0 && n - done >= SECTOR {
                let whole = (n - done) / SECTOR * SECTOR;
                self.disk.write_sectors(sector, &buf[done..done + whole])?;
                done += whole;
            } else {
                let chunk = (SECTOR - within).min(n - done);
                self.disk.read_sectors(sector, &mut self.bounce)?;
                self.bounce[within..within + chunk].copy_from_slice(&buf[done..done + chunk]);
                self.disk.write_sectors(sector, &self.bounce)?;
                done += chunk;
            }
        }
        Ok(n)
    }

    /// The `index`-th file in the directory (in use entries only, in table
    /// order): its NUL-padded name, the name's length and its size.
    pub fn entry(&self, index: usize) -> Option<([u8; 16], usize, u32)> {
        let e = self.dir.iter().filter(|e| e.in_use()).nth(index)?;
        Some((e.name, e.name().len(), e.size))
    }

    /// Directory slot holding `name`. A mounted directory's names are
    /// NUL-padded with nothing after the NUL (`check_directory` refuses
    /// junk there, and the kernel writes only such names), so the whole
    /// 16-byte field is compared at once instead of each name's length
    /// found first: `open` is this scan (`multi-oom` opens ~130,000 times).
    fn lookup(&self, name: &[u8]) -> Option<usize> {
        let mut want = [0u8; 16];
        want.get_mut(..name.len())?.copy_from_slice(name);
        self.dir.iter().position(|e| e.in_use() && e.name == want)
    }

    /// Writes the directory sector that holds slot `slot`.
    fn write_dir_sector(&mut self, slot: usize) -> Result<(), FsError> {
        let first = slot / DIRENTS_PER_SECTOR * DIRENTS_PER_SECTOR;
        let mut sector = [0u8; SECTOR];
        for (i, e) in self
            .dir
            .iter()
            .enumerate()
            .skip(first)
            .take(DIRENTS_PER_SECTOR)
        {
            let at = (i - first) * DIRENT_SIZE;
            sector[at..at + DIRENT_SIZE].copy_from_slice(&e.to_bytes());
        }
        self.bounce.copy_from_slice(&sector);
        let lba = self.sb.dir_start + (slot / DIRENTS_PER_SECTOR) as u64;
        self.disk.write_sectors(lba, &self.bounce)?;
        // Directory changes are written through: the disk's directory is
        // never behind, whatever ends the VM.
        self.disk.flush_sectors(lba, 1)
    }
}

/// Bytes of a `len`-byte transfer at `offset` that lie inside a file of `size` bytes.
fn clamp(len: usize, offset: u64, size: u64) -> usize {
    size.saturating_sub(offset).min(len as u64) as usize
}
