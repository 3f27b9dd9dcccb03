//! The supplemental page table: per address space, every page the process may
//! touch, keyed by page address (a `hashbrown` map), whatever its state.
use super::page::Page;
use hashbrown::HashMap;

#[derive(Debug, Default)]
pub struct Spt {
    pages: HashMap<u64, Page>,
}

/// Why a page could not be inserted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InsertError {
    /// The page already exists.
    Exists,
    /// The kernel heap has no room for another entry (user space can ask for
    /// more pages than the heap can describe, e.g. with a huge mmap).
    NoMemory,
}

impl Spt {
    pub fn new() -> Spt {
        Spt::default()
    }

    /// `spt_find_page`.
    pub fn find(&self, va: u64) -> Option<&Page> {
        self.pages.get(&va)
    }

    pub fn find_mut(&mut self, va: u64) -> Option<&mut Page> {
        self.pages.get_mut(&va)
    }

    /// `spt_insert_page`: fails if `va` is already present, or when the heap
    /// cannot grow the table (never an allocation failure panic).
    pub fn insert(&mut self, va: u64, page: Page) -> Result<(), InsertError> {
        if self.pages.contains_key(&va) {
            return Err(InsertError::Exists);
        }
        self.pages
            .try_reserve(1)
            .map_err(|_| InsertError::NoMemory)?;
        match self.pages.entry(va) {
            hashbrown::hash_map::Entry::Occupied(_) => Err(InsertError::Exists),
            hashbrown::hash_map::Entry::Vacant(v) => {
                v.insert(page);
                Ok(())
            }
        }
    }

    /// `spt_remove_page`.
    pub fn remove(&mut self, va: u64) -> Option<Page> {
        self.pages.remove(&va)
    }

    pub fn contains(&self, va: u64) -> bool {
        self.pages.contains_key(&va)
    }

    /// Page addresses, sorted (a snapshot: the table may change while they are used).
    pub fn addresses(&self) -> alloc::vec::Vec<u64> {
        let mut v: alloc::vec::Vec<u64> = self.pages.keys().copied().collect();
        v.sort_unstable();
        v
    }

    pub fn len(&self) -> usize {
        self.pages.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pages.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vm::uninit::Initializer;

    #[test]
    fn insert_find_remove() {
        let mut spt = Spt::new();
        assert!(spt.find(0x400000).is_none());
        spt.insert(0x400000, Page::new(false, Initializer::Zero))
            .unwrap();
        assert_eq!(
            spt.insert(0x400000, Page::new(true, Initializer::Zero)),
            Err(InsertError::Exists)
        );
        assert!(
            !spt.find(0x400000).unwrap().writable,
            "the first insert stays"
        );
        spt.insert(0x401000, Page::new(true, Initializer::Zero))
            .unwrap();
        assert_eq!(spt.addresses(), [0x400000, 0x401000]);
        assert!(spt.remove(0x400000).is_some());
        assert!(spt.remove(0x400000).is_none());
        assert_eq!(spt.len(), 1);
    }
}
