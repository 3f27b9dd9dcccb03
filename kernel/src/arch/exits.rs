//! Counts of the privileged operations the kernel asks of the host: loads of
//! CR3, TLB flushes (all, or one page), MSR writes and halts. In the PVM
//! guest mode each is a hypercall (an exit to the hypervisor: ~3K to ~50K
//! cycles on these hosts); in the native mode each is the instruction itself
//! (an exit on PVM hosts, where ring 0 is emulated; cheap on VT-x/AMD-V).
//! `SYS_KSTATS` reports them, so a benchmark can tell how many a `fork`, an
//! `exec`, a context switch or a fault costs.
use core::sync::atomic::{AtomicU64, Ordering};

/// An operation counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(usize)]
pub enum Op {
    /// A load of CR3 (an address-space switch).
    SetCr3 = 0,
    /// A flush of the whole TLB.
    FlushAll = 1,
    /// A flush of one page's TLB entry.
    FlushPage = 2,
    /// An MSR write.
    WriteMsr = 3,
    /// A halt until the next interrupt.
    Halt = 4,
}

/// Number of [`Op`]s.
pub const N_OPS: usize = 5;

static COUNTS: [AtomicU64; N_OPS] = [const { AtomicU64::new(0) }; N_OPS];

/// Counts one `op` about to be done.
#[inline]
pub fn count(op: Op) {
    COUNTS[op as usize].fetch_add(1, Ordering::Relaxed);
}

/// The counts so far, indexed by [`Op`].
pub fn counts() -> [u64; N_OPS] {
    core::array::from_fn(|i| COUNTS[i].load(Ordering::Relaxed))
}
