//! The VM's address types: user pages, guest-physical frame addresses, swap
//! slots and references to one page of one address space. Each is a newtype,
//! so a frame address can never be passed where a user address is expected.
use abi::layout::PAGE_SIZE;

/// A page of the user address space (its page number), the key of the SPT.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserPage(u32);

impl UserPage {
    /// The page holding user address `va`, or `None` if `va` is not a user
    /// address (at or above `USER_LIMIT`).
    pub fn containing(va: u64) -> Option<UserPage> {
        if !crate::mm::is_user_range(va, 1) {
            return None;
        }
        u32::try_from(va / PAGE_SIZE).ok().map(UserPage)
    }

    /// The page whose first address is `va`, which must be page-aligned and
    /// a user address; `None` otherwise.
    pub fn at(va: u64) -> Option<UserPage> {
        if !va.is_multiple_of(PAGE_SIZE) {
            return None;
        }
        UserPage::containing(va)
    }

    /// The page with page number `n` (no check: for pages computed from a
    /// valid page and a length already checked against the user range).
    pub const fn from_number(n: u32) -> UserPage {
        UserPage(n)
    }

    /// The first address of the page.
    pub const fn addr(self) -> u64 {
        self.0 as u64 * PAGE_SIZE
    }

    /// The page number.
    pub const fn number(self) -> u32 {
        self.0
    }

    /// The page `n` pages after this one (saturating at the top).
    pub const fn add(self, n: u32) -> UserPage {
        UserPage(self.0.saturating_add(n))
    }

    /// Pages from `self` up to (not including) `end`; 0 if `end` is below.
    pub const fn pages_to(self, end: UserPage) -> u32 {
        end.0.saturating_sub(self.0)
    }
}

/// A guest-physical address of a 4 KiB frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PhysAddr(u64);

impl PhysAddr {
    /// The frame at guest-physical `pa`, which must be page-aligned.
    pub const fn new(pa: u64) -> PhysAddr {
        debug_assert!(pa.is_multiple_of(PAGE_SIZE));
        PhysAddr(pa)
    }

    /// The address as a number.
    pub const fn get(self) -> u64 {
        self.0
    }
}

/// A slot of the swap disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SwapSlot(pub u32);

/// Index of an address space in the VM's table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SpaceId(pub u32);

/// One page of one address space: how the frame table's reverse map and
/// the swap table name the pages that hold a frame or a slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PageRef {
    /// The address space.
    pub space: SpaceId,
    /// The page in it.
    pub page: UserPage,
}

#[cfg(test)]
mod tests {
    use super::*;
    use abi::layout::USER_LIMIT;

    #[test]
    fn user_pages() {
        assert_eq!(UserPage::containing(0x400123).unwrap().addr(), 0x400000);
        assert_eq!(UserPage::at(0x400123), None);
        assert_eq!(UserPage::at(0x400000).unwrap().number(), 0x400);
        assert_eq!(UserPage::containing(USER_LIMIT), None);
        assert!(UserPage::containing(USER_LIMIT - 1).is_some());
        let p = UserPage::at(0x1000).unwrap();
        assert_eq!(p.add(2).addr(), 0x3000);
        assert_eq!(p.pages_to(p.add(5)), 5);
        assert_eq!(p.add(5).pages_to(p), 0);
    }
}
