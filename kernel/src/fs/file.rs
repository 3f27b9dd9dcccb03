//! An open file: a reference to a shared open inode plus this file's own
//! position and deny-write state. Every operation takes the global file-system
//! lock; dropping a `File` closes it and writes its cached changes back.
//!
//! Buffers passed to the read and write methods must be kernel memory the
//! block driver can translate to guest-physical addresses (heap, direct map or
//! kernel image), never user memory.

use super::inode::InodeId;
use super::sector_io::SectorIo;
use super::{FS, FsError};

/// One open file.
#[derive(Debug)]
pub struct File {
    inode: InodeId,
    /// Size in bytes (fixed for the file's life).
    len: u64,
    pos: u64,
    /// This `File` counts in its inode's deny-write count.
    denying: bool,
}

impl File {
    /// A `File` for an inode whose open count already includes it.
    pub(super) fn new(inode: InodeId, len: u64, pos: u64) -> File {
        File {
            inode,
            len,
            pos,
            denying: false,
        }
    }

    /// Reads from the position into `buf` and advances; returns 0 at or past the end.
    pub fn read(&mut self, buf: &mut [u8]) -> Result<usize, FsError> {
        let n = self.read_at(buf, self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }

    /// Writes `buf` at the position and advances; stops at the end of the
    /// file and writes nothing while writes are denied.
    pub fn write(&mut self, buf: &[u8]) -> Result<usize, FsError> {
        let n = self.write_at(buf, self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }

    /// Reads at `offset` without moving the position.
    pub fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<usize, FsError> {
        FS.lock()
            .as_mut()
            .ok_or(FsError::NotMounted)?
            .read_at(self.inode, buf, offset)
    }

    /// Writes at `offset` without moving the position.
    pub fn write_at(&self, buf: &[u8], offset: u64) -> Result<usize, FsError> {
        FS.lock()
            .as_mut()
            .ok_or(FsError::NotMounted)?
            .write_at(self.inode, buf, offset)
    }

    /// Moves the position; past the end is allowed (reads then return 0).
    pub fn seek(&mut self, pos: u64) {
        self.pos = pos;
    }

    /// The position.
    pub fn tell(&self) -> u64 {
        self.pos
    }

    /// Size of the file in bytes.
    pub fn length(&self) -> u64 {
        self.len
    }

    /// Denies writes to the file, by anyone, until this `File` allows them
    /// again or is dropped (used for running executables).
    pub fn deny_write(&mut self) {
        if !self.denying {
            self.denying = true;
            if let Some(v) = FS.lock().as_mut() {
                v.deny_write(self.inode);
            }
        }
    }

    /// Withdraws this `File`'s denial of writes.
    pub fn allow_write(&mut self) {
        if self.denying {
            self.denying = false;
            if let Some(v) = FS.lock().as_mut() {
                v.allow_write(self.inode);
            }
        }
    }

    /// Another `File` of the same inode, at position 0, not denying writes.
    pub fn reopen(&self) -> File {
        if let Some(v) = FS.lock().as_mut() {
            v.reopen(self.inode);
        }
        File::new(self.inode, self.len, 0)
    }

    /// Another `File` of the same inode at the same position (independent from
    /// then on); it denies writes too if this one does.
    pub fn duplicate(&self) -> File {
        if let Some(v) = FS.lock().as_mut() {
            v.reopen(self.inode);
            if self.denying {
                v.deny_write(self.inode);
            }
        }
        File {
            inode: self.inode,
            len: self.len,
            pos: self.pos,
            denying: self.denying,
        }
    }
}

impl Drop for File {
    /// Closes the file and writes its dirty cached blocks to the disk (a
    /// disk error there cannot be reported to anyone: the blocks stay cached
    /// and dirty for the next flush).
    fn drop(&mut self) {
        if let Some(v) = FS.lock().as_mut() {
            if self.denying {
                v.allow_write(self.inode);
            }
            let extent = v
                .inode(self.inode)
                .map(|n| (n.start, abi::fs::sectors_for(n.size)));
            v.close(self.inode);
            if let Some((start, sectors)) = extent {
                let _ = v.disk().flush_sectors(start, sectors);
            }
        }
    }
}
