//! A process's file-descriptor table. Descriptors refer to shared open-file
//! objects, so `dup2`'d descriptors share one position; `fork` gives the child
//! its own copies (with the same positions) while keeping which of its
//! descriptors share an object.
use crate::fs::File;
use crate::sync::Mutex;
use abi::syscall::FD_MAX;
use alloc::sync::Arc;
use alloc::vec::Vec;

/// What a descriptor refers to.
pub enum OpenFile {
    Stdin,
    Stdout,
    File(Mutex<File>),
}

pub struct FdTable {
    slots: Vec<Option<Arc<OpenFile>>>,
}

impl FdTable {
    /// A table with stdin (0) and stdout (1).
    pub fn new() -> FdTable {
        FdTable {
            slots: alloc::vec![
                Some(Arc::new(OpenFile::Stdin)),
                Some(Arc::new(OpenFile::Stdout))
            ],
        }
    }

    /// A table with no descriptors (what an exiting process is left with).
    pub fn empty() -> FdTable {
        FdTable { slots: Vec::new() }
    }

    fn slot(&self, fd: i64) -> Option<&Arc<OpenFile>> {
        usize::try_from(fd)
            .ok()
            .and_then(|i| self.slots.get(i))
            .and_then(|s| s.as_ref())
    }

    /// The open file behind `fd`.
    pub fn get(&self, fd: i64) -> Option<Arc<OpenFile>> {
        self.slot(fd).cloned()
    }

    /// Installs `file` at the lowest free descriptor from 2 up.
    pub fn insert(&mut self, file: OpenFile) -> Option<i64> {
        let free = (2..FD_MAX).find(|&i| self.slots.get(i).is_none_or(|s| s.is_none()))?;
        if free >= self.slots.len() {
            self.slots.resize_with(free + 1, || None);
        }
        self.slots[free] = Some(Arc::new(file));
        Some(free as i64)
    }

    /// Closes `fd`; false if it was not open.
    pub fn close(&mut self, fd: i64) -> bool {
        match usize::try_from(fd).ok().and_then(|i| self.slots.get_mut(i)) {
            Some(s @ Some(_)) => {
                *s = None;
                true
            }
            _ => false,
        }
    }

    /// Linux `dup2`: makes `new` refer to what `old` refers to.
    pub fn dup2(&mut self, old: i64, new: i64) -> Option<i64> {
        let file = self.get(old)?;
        let n = usize::try_from(new).ok().filter(|&n| n < FD_MAX)?;
        if old == new {
            return Some(new);
        }
        if n >= self.slots.len() {
            self.slots.resize_with(n + 1, || None);
        }
        self.slots[n] = Some(file);
        Some(new)
    }

    /// The child's table for `fork`.
    pub fn fork_copy(&self) -> FdTable {
        let mut copies: Vec<(*const OpenFile, Arc<OpenFile>)> = Vec::new();
        let slots = self
            .slots
            .iter()
            .map(|s| {
                let f = s.as_ref()?;
                if let Some((_, c)) = copies.iter().find(|(p, _)| *p == Arc::as_ptr(f)) {
                    return Some(c.clone());
                }
                let c = Arc::new(match &**f {
                    OpenFile::Stdin => OpenFile::Stdin,
                    OpenFile::Stdout => OpenFile::Stdout,
                    OpenFile::File(m) => OpenFile::File(Mutex::new(m.lock().duplicate())),
                });
                copies.push((Arc::as_ptr(f), c.clone()));
                Some(c)
            })
            .collect();
        FdTable { slots }
    }
}

impl Default for FdTable {
    fn default() -> Self {
        FdTable::new()
    }
}
