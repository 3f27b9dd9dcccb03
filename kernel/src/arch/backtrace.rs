//! Walking the kernel's frame-pointer chain (the kernel is built with
//! `-C force-frame-pointers=yes`: each frame starts with the caller's `rbp`
//! and the return address), for the panic report.

use abi::layout::DIRECT_MAP_BASE;

/// Fills `out` with the return addresses of the calling function's
/// frame-pointer chain, innermost first, and returns how many it found.
/// Stops at the end of the chain (a zero return address; `_start` and the
/// thread trampoline start chains with `rbp` = 0), at an `rbp` outside the
/// kernel's half of the address space, misaligned, or not above the last
/// one, or when `out` is full. Never fails.
#[inline(always)]
pub fn return_addresses(out: &mut [u64]) -> usize {
    let mut rbp: u64;
    // SAFETY: reading rbp has no side effects.
    unsafe { core::arch::asm!("mov {}, rbp", out(reg) rbp, options(nomem, nostack)) };
    let mut n = 0;
    while n < out.len() && rbp >= DIRECT_MAP_BASE && rbp.is_multiple_of(8) {
        // SAFETY: with frame pointers every frame on the chain holds the
        // caller's rbp at [rbp] and the return address at [rbp + 8], on a
        // kernel stack, which the kernel's half maps; the loop follows only
        // aligned kernel addresses that grow towards the stack's base.
        let (next, ret) = unsafe { (*(rbp as *const u64), *((rbp + 8) as *const u64)) };
        if ret == 0 {
            break;
        }
        out[n] = ret;
        n += 1;
        if next <= rbp {
            break;
        }
        rbp = next;
    }
    n
}
