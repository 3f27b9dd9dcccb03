//! The open-inode table: one in-memory inode per open file, shared by every
//! [`super::File`] of that file.
//!
//! An inode remembers where the file's data lies, how many `File`s refer to
//! it, how many of them deny writes, and whether the file has been removed
//! from the directory (its sectors stay reserved until the last close).

use alloc::vec::Vec;

use super::FsError;

/// Index of an open inode in the [`InodeTable`].
pub type InodeId = usize;

/// One open file's shared state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpenInode {
    /// First data sector.
    pub start: u64,
    /// Size in bytes (fixed at creation).
    pub size: u64,
    /// Directory slot while the file is still in the directory; `None` once removed.
    pub dir_index: Option<usize>,
    /// `File`s referring to this inode.
    pub open_count: usize,
    /// `File`s that currently deny writes.
    pub deny_count: usize,
}

impl OpenInode {
    /// Removed from the directory but still open.
    pub fn removed(&self) -> bool {
        self.dir_index.is_none()
    }
}

/// All open inodes; a slot is reused once its inode has no `File` left.
#[derive(Default)]
pub struct InodeTable {
    slots: Vec<Option<OpenInode>>,
}

impl InodeTable {
    /// A table with no open inode.
    pub const fn new() -> InodeTable {
        InodeTable { slots: Vec::new() }
    }

    /// The open inode of directory slot `dir_index`, if any.
    pub fn find_by_dir(&self, dir_index: usize) -> Option<InodeId> {
        self.slots
            .iter()
            .position(|s| s.is_some_and(|n| n.dir_index == Some(dir_index)))
    }

    /// Adds an inode and returns its id; `FsError::NoMemory` (the table
    /// unchanged) when a new slot is needed and the kernel heap is short.
    pub fn insert(&mut self, inode: OpenInode) -> Result<InodeId, FsError> {
        if let Some(i) = self.slots.iter().position(Option::is_none) {
            self.slots[i] = Some(inode);
            return Ok(i);
        }
        self.slots.try_reserve(1).map_err(|_| FsError::NoMemory)?;
        self.slots.push(Some(inode));
        Ok(self.slots.len() - 1)
    }

    /// The open inode `id`, or `None` if that slot is free.
    pub fn get(&self, id: InodeId) -> Option<&OpenInode> {
        self.slots.get(id)?.as_ref()
    }

    /// The open inode `id` to change, or `None` if that slot is free.
    pub fn get_mut(&mut self, id: InodeId) -> Option<&mut OpenInode> {
        self.slots.get_mut(id)?.as_mut()
    }

    /// Drops the inode at `id`, returning it.
    pub fn remove(&mut self, id: InodeId) -> Option<OpenInode> {
        self.slots.get_mut(id)?.take()
    }

    /// Open inodes that were removed from the directory (their sectors are
    /// still in use).
    pub fn removed(&self) -> impl Iterator<Item = &OpenInode> {
        self.slots.iter().flatten().filter(|n| n.removed())
    }
}
