//! The supplemental page table: per address space, every page that has been
//! touched, keyed by page (a `hashbrown` map), whatever its state. Pages
//! never touched have no entry; their region describes them.
use super::addr::UserPage;
use super::page::Page;
use arrayvec::ArrayVec;
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

    /// Up to `N` pages for which `pick` holds, in no particular order: for
    /// taking pages out in batches, without allocating a snapshot of the
    /// keys. Each call scans the table from its start, and pages taken out
    /// leave empty buckets there, so one page per scan would make emptying
    /// the table quadratic in its size.
    pub fn pages_where<const N: usize>(
        &self,
        pick: impl Fn(UserPage) -> bool,
    ) -> ArrayVec<UserPage, N> {
        self.pages
            .keys()
            .copied()
            .filter(|&p| pick(p))
            .take(N)
            .collect()
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
        assert_eq!(spt.pages_where::<4>(|_| true).as_slice(), &[b]);
    }

    #[test]
    fn pages_where_gives_matching_pages_in_batches() {
        let mut spt = Spt::new();
        for n in 0..100u32 {
            let page = UserPage::from_number(0x400 + n);
            spt.insert(page, Page::lazy(Prot::RW, false)).unwrap();
        }
        let even = |p: UserPage| p.number().is_multiple_of(2);
        let mut seen = 0;
        loop {
            let batch = spt.pages_where::<8>(even);
            assert!(batch.len() <= 8);
            if batch.is_empty() {
                break;
            }
            for page in batch {
                assert!(even(page));
                assert!(spt.remove(page).is_some());
                seen += 1;
            }
        }
        assert_eq!(seen, 50);
        assert_eq!(spt.len(), 50);
        assert!(spt.iter().all(|(p, _)| !even(p)));
    }
}
