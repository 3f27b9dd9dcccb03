//! A process's file-descriptor table: a sparse table of descriptor numbers
//! `0..FD_MAX` (`dup2` may use any of them), kept as a sorted vector of the
//! open ones. Descriptors refer to shared open-file objects, so `dup2`'d
//! descriptors share one position; `fork` gives the child its own copies
//! (with the same positions) while keeping which of its descriptors share an
//! object. Every growth is fallible: a table that cannot grow makes `open`
//! or `dup2` return -1 and `fork` fail, never panics.
use crate::fs::File;
use crate::mm::{OutOfMemory, fallible};
use crate::sync::Mutex;
use abi::syscall::FD_MAX;
use alloc::sync::Arc;
use alloc::vec::Vec;

/// What a descriptor refers to.
pub enum OpenFile {
    /// The console's input.
    Stdin,
    /// The console's output.
    Stdout,
    /// An open file of the file system, with its own position.
    File(Mutex<File>),
}

/// The open descriptors, sorted by number.
pub struct FdTable {
    fds: Vec<(u32, Arc<OpenFile>)>,
}

/// Why a descriptor could not be installed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FdError {
    /// Every number below [`FD_MAX`] is in use, or the number asked for is
    /// out of range.
    NoDescriptor,
    /// The kernel has no memory for another entry.
    OutOfMemory,
}

impl From<OutOfMemory> for FdError {
    fn from(_: OutOfMemory) -> Self {
        FdError::OutOfMemory
    }
}

impl FdTable {
    /// A table with stdin (0) and stdout (1); `OutOfMemory` if it cannot be made.
    pub fn new() -> Result<FdTable, OutOfMemory> {
        let mut fds = fallible::try_vec(2)?;
        fds.push((0, fallible::try_arc(OpenFile::Stdin)?));
        fds.push((1, fallible::try_arc(OpenFile::Stdout)?));
        Ok(FdTable { fds })
    }

    /// A table with no descriptors (what an exiting process is left with).
    pub fn empty() -> FdTable {
        FdTable { fds: Vec::new() }
    }

    /// Index of descriptor `fd` in `fds`, or where it would go.
    fn find(&self, fd: u32) -> Result<usize, usize> {
        self.fds.binary_search_by_key(&fd, |&(n, _)| n)
    }

    /// The open file behind `fd` (`None` for a closed or impossible number).
    pub fn get(&self, fd: i64) -> Option<Arc<OpenFile>> {
        let fd = u32::try_from(fd).ok()?;
        self.find(fd).ok().map(|i| self.fds[i].1.clone())
    }

    /// Installs `file` at the lowest free descriptor number and returns it.
    pub fn insert(&mut self, file: OpenFile) -> Result<i64, FdError> {
        // The lowest free number is the first gap in the sorted numbers.
        let (index, fd) = self
            .fds
            .iter()
            .enumerate()
            .find(|&(i, &(n, _))| n != i as u32)
            .map_or((self.fds.len(), self.fds.len() as u32), |(i, _)| {
                (i, i as u32)
            });
        if fd as usize >= FD_MAX {
            return Err(FdError::NoDescriptor);
        }
        fallible::try_reserve(&mut self.fds, 1)?;
        let file = fallible::try_arc(file)?;
        self.fds.insert(index, (fd, file));
        Ok(fd as i64)
    }

    /// Closes `fd`; false if it was not open.
    pub fn close(&mut self, fd: i64) -> bool {
        let Ok(fd) = u32::try_from(fd) else {
            return false;
        };
        match self.find(fd) {
            Ok(i) => {
                self.fds.remove(i);
                true
            }
            Err(_) => false,
        }
    }

    /// Linux `dup2`: makes `new` refer to what `old` refers to (closing what
    /// `new` referred to) and returns `new`; `old` itself when they are equal.
    /// Fails when `old` is not open, `new` is not below [`FD_MAX`], or the
    /// table cannot grow.
    pub fn dup2(&mut self, old: i64, new: i64) -> Result<i64, FdError> {
        let file = self.get(old).ok_or(FdError::NoDescriptor)?;
        let n = u32::try_from(new)
            .ok()
            .filter(|&n| (n as usize) < FD_MAX)
            .ok_or(FdError::NoDescriptor)?;
        if old == new {
            return Ok(new);
        }
        match self.find(n) {
            Ok(i) => self.fds[i].1 = file,
            Err(i) => {
                fallible::try_reserve(&mut self.fds, 1)?;
                self.fds.insert(i, (n, file));
            }
        }
        Ok(new)
    }

    /// The child's table for `fork`, or `OutOfMemory` (nothing is kept then).
    pub fn fork_copy(&self) -> Result<FdTable, OutOfMemory> {
        let mut fds: Vec<(u32, Arc<OpenFile>)> = fallible::try_vec(self.fds.len())?;
        for (i, (n, f)) in self.fds.iter().enumerate() {
            // Descriptors sharing an object share its copy too. An object
            // only this entry refers to (the common case) needs no search.
            let earlier = (Arc::strong_count(f) > 1)
                .then(|| {
                    self.fds[..i]
                        .iter()
                        .position(|(_, g)| Arc::ptr_eq(f, g))
                        .map(|j| fds[j].1.clone())
                })
                .flatten();
            let copy = match earlier {
                Some(c) => c,
                None => fallible::try_arc(match &**f {
                    OpenFile::Stdin => OpenFile::Stdin,
                    OpenFile::Stdout => OpenFile::Stdout,
                    OpenFile::File(m) => OpenFile::File(Mutex::new(m.lock().duplicate())),
                })?,
            };
            fds.push((*n, copy));
        }
        Ok(FdTable { fds })
    }
}
