//! Swap-in read-ahead: which pages one swap-in fault reads besides its own
//! ([`ReadSet`]): the pages written out with it (the slots right after its
//! slot), then the pages next to it in the address space, above it or, when
//! the space reads backwards, below it; at most `Space::swap_window` pages,
//! which shrinks while faults land at random (pages read ahead would go
//! unused and take frames other pages need) and grows back on a scan. Each
//! page read ahead goes into a free frame: read-ahead never evicts.
use super::addr::{PageRef, PhysAddr, SpaceId, SwapSlot, UserPage};
use super::hw::Hw;
use super::page::Source;
use super::{SWAP_READAHEAD, SWAP_READAHEAD_MIN, Vm};
use arrayvec::ArrayVec;

impl<H: Hw> Vm<H> {
    /// Whether `page` of space `id` is in swap (in slot `want`, if given)
    /// and not in `set` yet.
    fn swapped_page(
        &self,
        id: SpaceId,
        page: UserPage,
        want: Option<SwapSlot>,
        set: &ReadSet,
    ) -> Option<SwapSlot> {
        let r = PageRef { space: id, page };
        let Source::Swap(slot) = self.page(r)?.fill_source() else {
            return None;
        };
        let fits = want.is_none_or(|w| w == slot) && !set.pages.contains(&page);
        fits.then_some(slot)
    }

    /// Adds to `set` the pages of space `id` in the slots right after
    /// `slot`, each with a free frame, until one is not.
    pub(super) fn read_ahead_by_slot(
        &mut self,
        id: SpaceId,
        page: UserPage,
        slot: SwapSlot,
        set: &mut ReadSet,
    ) {
        for n in 1..SWAP_READAHEAD as u32 {
            if set.is_full() {
                return;
            }
            let next = SwapSlot(slot.0 + n);
            // A slot with one page names it; a slot shared since a fork names
            // none, and the pages of this space `n` pages above and below are
            // tried (a batch written in address order, up or down: arrays and
            // stacks).
            let candidates = match self.swap.owner(next) {
                Some(owner) if owner.space == id => [Some(owner.page), None],
                Some(_) => return,
                None => [
                    Some(page.add(n)),
                    page.number().checked_sub(n).map(UserPage::from_number),
                ],
            };
            let Some(found) = candidates
                .into_iter()
                .flatten()
                .find(|&p| self.swapped_page(id, p, Some(next), set).is_some())
            else {
                return;
            };
            let Some((frame, _)) = self.hw.alloc_frame() else {
                return;
            };
            set.push(next, found, frame);
        }
    }

    /// Where this swap-in of `page` by space `id` stands against the last
    /// one: whether it is a little below it (an array read backwards), and
    /// how many pages it may read (`Space::swap_window`, updated here).
    pub(super) fn swap_in_pattern(&mut self, id: SpaceId, page: UserPage) -> (bool, usize) {
        let Ok(space) = self.space_mut(id) else {
            return (false, 1);
        };
        let window = u32::from(space.swap_window);
        let last = space.last_swap_in.replace(page).map(UserPage::number);
        let (p, near) = (page.number(), |d: u32| d <= 2 * window);
        let (descending, window) = match last {
            Some(l) if l > p && near(l - p) => (true, window * 2),
            Some(l) if p > l && near(p - l) => (false, window * 2),
            Some(_) => (false, window / 2),
            None => (false, window),
        };
        let window = window.clamp(SWAP_READAHEAD_MIN as u32, SWAP_READAHEAD as u32);
        space.swap_window = window as u8;
        (descending, window as usize)
    }

    /// Adds to `set` the pages next to `page` in space `id` that are in swap
    /// (any slot), each with a free frame, until one is not: the pages right
    /// above it, or those right below it when the fault is `descending`.
    pub(super) fn read_ahead_by_address(
        &mut self,
        id: SpaceId,
        page: UserPage,
        descending: bool,
        set: &mut ReadSet,
    ) {
        if descending {
            let below = (1..SWAP_READAHEAD as u32)
                .map(|n| page.number().checked_sub(n).map(UserPage::from_number));
            self.read_ahead_run(id, below, set);
        } else {
            self.read_ahead_run(
                id,
                (1..SWAP_READAHEAD as u32).map(|n| Some(page.add(n))),
                set,
            );
        }
    }

    /// Adds to `set` the pages of `run` (space `id`) while each is in swap
    /// and has a free frame (pages already in `set` are skipped), until the
    /// run, the frames or the set's room ends.
    fn read_ahead_run(
        &mut self,
        id: SpaceId,
        run: impl Iterator<Item = Option<UserPage>>,
        set: &mut ReadSet,
    ) {
        for p in run {
            let Some(p) = p else {
                return;
            };
            if set.is_full() {
                return;
            }
            if set.pages.contains(&p) {
                continue;
            }
            let Some(slot) = self.swapped_page(id, p, None, set) else {
                return;
            };
            let Some((frame, _)) = self.hw.alloc_frame() else {
                return;
            };
            set.push(slot, p, frame);
        }
    }
}

/// The pages one swap-in reads: each page's (slot, frame) for the disk and,
/// at the same index, the page itself. Kept small: the fault path may run
/// deep in a kernel stack (a system call's copy to user memory).
pub(super) struct ReadSet {
    /// Each page's (slot, frame) for the disk.
    pub(super) io: ArrayVec<(SwapSlot, PhysAddr), SWAP_READAHEAD>,
    /// The pages, at the same indices.
    pub(super) pages: ArrayVec<UserPage, SWAP_READAHEAD>,
    /// Most pages this set takes (at most [`SWAP_READAHEAD`]).
    limit: usize,
}

impl ReadSet {
    /// An empty set of at most `limit` pages.
    pub(super) fn new(limit: usize) -> ReadSet {
        ReadSet {
            io: ArrayVec::new(),
            pages: ArrayVec::new(),
            limit: limit.min(SWAP_READAHEAD),
        }
    }

    /// Whether the set has room for no more pages.
    fn is_full(&self) -> bool {
        self.pages.len() >= self.limit
    }

    /// Adds `page`, to be read from `slot` into `frame` (the caller checks
    /// for room).
    pub(super) fn push(&mut self, slot: SwapSlot, page: UserPage, frame: PhysAddr) {
        self.io.push((slot, frame));
        self.pages.push(page);
    }

    /// Puts the entries in slot order, so that consecutive slots make one
    /// disk request (an insertion sort: at most [`SWAP_READAHEAD`] entries,
    /// mostly in order already, and no scratch space).
    pub(super) fn sort_by_slot(&mut self) {
        for i in 1..self.io.len() {
            let mut j = i;
            while j > 0 && self.io[j - 1].0.0 > self.io[j].0.0 {
                self.io.swap(j - 1, j);
                self.pages.swap(j - 1, j);
                j -= 1;
            }
        }
    }
}
