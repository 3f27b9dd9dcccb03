//! The file system ("fltfs", format in [`abi::fs`]): a flat directory of
//! contiguous, fixed-size files with Pintos semantics, on the file-system disk.
//!
//! Names are byte slices as they come from user space. Open files of one name
//! share an in-memory inode ([`inode`]); removing a file takes its name out of
//! the directory at once but frees its sectors only when its last [`File`] is
//! dropped. One global sleeping lock serializes every directory, inode and
//! data operation (it is held across disk I/O).
//!
//! The volume reads and writes the disk through a write-back block cache
//! ([`cache`]) that takes its memory from the kernel heap block by block as
//! misses need it, within a budget ([`cache_memory`]). Dirty blocks reach
//! the disk when a file is closed (that file's blocks), at [`flush`] (process
//! exit and shutdown) and when the cache needs room. Lock order: the VM lock
//! may be held when the file system is entered, never the other way round.

pub mod cache;
pub mod cache_memory;
mod cache_slots;
mod file;
pub mod inode;
pub mod sector_io;
pub mod volume;

pub use file::File;
pub use volume::MountError;

use crate::dev::BlockDevice;
use crate::sync::Mutex;
use cache::{BlockCache, CacheStats};
use cache_memory::{Budget, KernelHeap};
use volume::Volume;

/// The file-system disk as the volume sees it.
type Disk = BlockCache<&'static BlockDevice, KernelHeap>;

/// Why a file-system operation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FsError {
    /// No file of that name.
    NotFound,
    /// A file of that name already exists.
    Exists,
    /// Empty, longer than `NAME_MAX`, or containing NUL, '/' or a space.
    BadName,
    /// No free run of sectors large enough.
    NoSpace,
    /// Every directory entry is in use.
    DirFull,
    /// The disk failed a request.
    Io,
    /// There is no file-system disk.
    NoDevice,
    /// The disk does not hold a valid file system.
    BadFormat,
    /// [`init`] has not mounted the file system.
    NotMounted,
    /// The open file does not exist (internal inconsistency).
    BadFile,
    /// Kernel memory ran out (the call fails; nothing on disk changed).
    NoMemory,
}

/// The mounted file system, behind the global file-system lock.
static FS: Mutex<Option<Volume<Disk>>> = Mutex::new(None);

/// Mounts the file system of [`crate::dev::fs_disk`] behind an empty block
/// cache with the budget of the kernel pool ([`Budget::for_pool`]; it takes
/// no memory until a miss needs a block). A second call keeps the mounted
/// one. Fails with why the disk cannot be mounted ([`Volume::mount`]).
pub fn init() -> Result<(), MountError> {
    let mut fs = FS.lock();
    if fs.is_none() {
        let disk = crate::dev::fs_disk().ok_or(MountError::NoDevice)?;
        let (_, kernel_frames) = crate::mm::palloc::kernel_usage();
        let budget = Budget::for_pool(kernel_frames);
        *fs = Some(Volume::mount(BlockCache::new(disk, budget, KernelHeap))?);
    }
    Ok(())
}

/// Writes every dirty cached block to the disk (process exit, shutdown);
/// when kernel memory is short, the cache then gives its blocks above its
/// share back and the heap returns its free pages to the pool. Returns the
/// first disk error; the blocks that failed stay cached.
pub fn flush() -> Result<(), FsError> {
    let fs = FS.lock();
    let cache = fs.as_ref().ok_or(FsError::NotMounted)?.disk();
    let released = cache.stats().released;
    let result = cache.flush();
    if cache.stats().released != released {
        crate::mm::heap::trim_slack();
    }
    result
}

/// The block cache's counters (all zero before [`init`]).
pub fn cache_stats() -> CacheStats {
    FS.lock()
        .as_ref()
        .map_or_else(CacheStats::default, |v| v.disk().stats())
}

/// Creates `name` with a fixed `size` in bytes; the new file reads as zeros.
pub fn create(name: &[u8], size: u32) -> Result<(), FsError> {
    FS.lock()
        .as_mut()
        .ok_or(FsError::NotMounted)?
        .create(name, size)
}

/// Removes `name` from the directory (open files of it keep working).
pub fn remove(name: &[u8]) -> Result<(), FsError> {
    FS.lock().as_mut().ok_or(FsError::NotMounted)?.remove(name)
}

/// Opens `name` at position 0.
pub fn open(name: &[u8]) -> Result<File, FsError> {
    let mut fs = FS.lock();
    let vol = fs.as_mut().ok_or(FsError::NotMounted)?;
    let id = vol.open(name)?;
    let len = vol.inode(id).map_or(0, |n| n.size);
    Ok(File::new(id, len, 0))
}

/// The `index`-th file of the directory (counting files only): its
/// NUL-padded name, the name's length and its size. `None` past the last.
pub fn entry(index: usize) -> Option<([u8; 16], usize, u32)> {
    FS.lock().as_ref()?.entry(index)
}

#[cfg(test)]
mod cache_budget_tests;
#[cfg(test)]
mod cache_tests;
#[cfg(test)]
mod cache_volume_tests;
#[cfg(test)]
mod tests;

#[cfg(test)]
mod mount_tests;
