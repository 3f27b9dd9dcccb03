//! The supplemental page table: per address space, every page that has been
//! touched, keyed by page (a `hashbrown` map), whatever its state. Pages
//! never touched have no entry; their region describes them.
use super::addr::UserPage;
use super::page::Page;
use hashbrown::HashMap;

/// One address space's pages, by page.
#[derive(Debug, Default)]
pub struct Spt {
    pages: HashMap<UserPage, Page>,
}

/// Why a page could not be inserted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InsertError {
    /// The page already exists.
    Exists,
    /// The kernel has no memory for another entry.
    NoMemory,
}

impl Spt {
    /// A table with no page.
    pub fn new() -> Spt {
        Spt::default()
    }

    /// `spt_find_page`.
    pub fn find(&self, page: UserPage) -> Option<&Page> {
        self.pages.get(&page)
    }

    /// `spt_find_page`, to change the entry.
    pub fn find_mut(&mut self, page: UserPage) -> Option<&mut Page> {
        self.pages.get_mut(&page)
    }

    /// `spt_insert_page`: fails if `page` is already present, or when the
    /// kernel cannot grow the table (the entry is handed back then, so that
    /// what it holds can be released).
    pub fn insert(&mut self, page: UserPage, entry: Page) -> Result<(), (InsertError, Page)> {
        if self.pages.contains_key(&page) {
            return Err((InsertError::Exists, entry));
        }
        if let Err(e) = self.reserve(1) {
            return Err((e, entry));
        }
        self.pages.insert(page, entry);
        Ok(())
    }

    /// Makes room for `additional` more entries, or `NoMemory`.
    pub fn reserve(&mut self, additional: usize) -> Result<(), InsertError> {
        let bytes = core::mem::size_of::<(UserPage, Page)>() * (self.pages.len() + additional);
        if self.pages.capacity() - self.pages.len() >= additional {
            return Ok(());
        }
        if !crate::mm::may_charge(bytes) || self.pages.try_reserve(additional).is_err() {
            return Err(InsertError::NoMemory);
        }
        Ok(())
    }

    /// `spt_remove_page`: takes the entry out (the caller destroys it).
    pub fn remove(&mut self, page: UserPage) -> Option<Page> {
        self.pages.remove(&page)
    }

    /// Whether `page` has an entry.
    pub fn contains(&self, page: UserPage) -> bool {
        self.pages.contains_key(&page)
    }

    /// The number of pages with an entry.
    pub fn len(&self) -> usize {
        self.pages.len()
    }

    /// Whether no page has an entry.
    pub fn is_empty(&self) -> bool {
        self.pages.is_empty()
    }

    /// Every page and its entry, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (UserPage, &Page)> {
        self.pages.iter().map(|(&p, e)| (p, e))
    }

    /// Every page and its entry, mutably.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (UserPage, &mut Page)> {
        self.pages.iter_mut().map(|(&p, e)| (p, e))
    }

    /// Some page of the table, if any (for taking the table apart one
    /// page at a time without a snapshot of its keys).
    pub fn any_page(&self) -> Option<UserPage> {
        self.pages.keys().next().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vm::hw::Prot;

    #[test]
    fn insert_find_remove() {
        let mut spt = Spt::new();
        let a = UserPage::at(0x400000).unwrap();
        let b = UserPage::at(0x401000).unwrap();
        assert!(spt.find(a).is_none());
        spt.insert(a, Page::lazy(Prot::RO, false)).unwrap();
        let again = spt.insert(a, Page::lazy(Prot::RW, false));
        assert!(matches!(again, Err((InsertError::Exists, _))));
        assert!(!spt.find(a).unwrap().prot.write, "the first insert stays");
        spt.insert(b, Page::lazy(Prot::RW, true)).unwrap();
        assert!(spt.find(b).unwrap().is_file());
        assert!(spt.remove(a).is_some());
        assert!(spt.remove(a).is_none());
        assert_eq!(spt.len(), 1);
        assert_eq!(spt.any_page(), Some(b));
    }
}
