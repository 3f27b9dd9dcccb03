//! Physical memory: the kernel and user frame pools ([`palloc`]), the kernel
//! heap ([`heap`]) and the translations between guest-physical addresses and
//! the kernel's virtual addresses.
pub mod heap;
pub mod palloc;

use abi::boot::BootInfo;
use abi::layout::{DIRECT_MAP_BASE, KERNEL_VIRT_BASE};

/// Kernel virtual address of a guest-physical address (through the direct map).
#[inline]
pub fn phys_to_virt(pa: u64) -> u64 {
    DIRECT_MAP_BASE + pa
}

/// Guest-physical address of a kernel virtual address in the direct map or the
/// kernel image.
#[inline]
pub fn virt_to_phys(va: u64) -> u64 {
    if va >= KERNEL_VIRT_BASE {
        va - KERNEL_VIRT_BASE
    } else {
        va - DIRECT_MAP_BASE
    }
}

/// Whether `[va, va + len)` lies in user space without wrapping.
pub fn is_user_range(va: u64, len: u64) -> bool {
    va.checked_add(len)
        .is_some_and(|end| end <= abi::layout::USER_LIMIT)
}

/// Sets up the frame pools and the heap.
pub fn init(boot: &BootInfo) {
    palloc::init(boot);
    heap::init();
}
