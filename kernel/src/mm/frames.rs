//! Access to the bytes of user-pool frames through the direct map, for the
//! VM alone: [`FrameAccess`] is a token that exists once ([`FrameAccess::take`]),
//! and every accessor borrows it, so no two references to frame bytes can
//! be alive at once through it.
use super::{palloc, phys_to_virt};
use abi::layout::PAGE_SIZE;
use core::sync::atomic::{AtomicBool, Ordering};

static TAKEN: AtomicBool = AtomicBool::new(false);

/// The right to touch user frames' bytes.
pub struct FrameAccess(());

impl FrameAccess {
    /// The token; `None` if it was taken before (there is only one).
    pub fn take() -> Option<FrameAccess> {
        (!TAKEN.swap(true, Ordering::AcqRel)).then_some(FrameAccess(()))
    }

    /// Panics unless `pa` is a frame of the user pool.
    fn check(pa: u64) {
        let (base, count) = palloc::user_pool();
        assert!(
            pa.is_multiple_of(PAGE_SIZE) && pa >= base && pa < base + count as u64 * PAGE_SIZE,
            "{pa:#x} is not a user frame"
        );
    }

    /// The 4 KiB of user frame `pa`.
    pub fn bytes(&mut self, pa: u64) -> &mut [u8] {
        Self::check(pa);
        // SAFETY: `pa` is a user-pool frame, mapped by the direct map; the
        // borrow of the only token makes this the only live reference made
        // through it, and the kernel touches user frames through the token
        // only (user mappings are the process's, which cannot run meanwhile
        // on this single CPU while the VM holds its lock).
        unsafe { core::slice::from_raw_parts_mut(phys_to_virt(pa) as *mut u8, PAGE_SIZE as usize) }
    }

    /// Copies user frame `src` into user frame `dst` (distinct frames).
    pub fn copy(&mut self, dst: u64, src: u64) {
        Self::check(dst);
        Self::check(src);
        assert_ne!(dst, src, "copying a frame onto itself");
        // SAFETY: two distinct user frames in the direct map, borrowed through
        // the token as in `bytes`.
        unsafe {
            core::ptr::copy_nonoverlapping(
                phys_to_virt(src) as *const u8,
                phys_to_virt(dst) as *mut u8,
                PAGE_SIZE as usize,
            )
        }
    }

    /// The kernel address of byte `offset` of user frame `pa` (for copies
    /// between user memory and kernel buffers done while the VM lock keeps
    /// the frame in place).
    pub fn address(&mut self, pa: u64, offset: u64) -> *mut u8 {
        Self::check(pa);
        (phys_to_virt(pa) + offset % PAGE_SIZE) as *mut u8
    }
}
