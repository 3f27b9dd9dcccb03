//! Access to user memory from system calls: every user pointer is checked
//! (user range, a page of the process there, writable when written) and the
//! bytes are copied through the frames' direct-map addresses, faulting pages in
//! as a user access would (lazy pages, swapped-out pages, stack growth by the
//! user `rsp` saved at system-call entry). The kernel never faults on a user
//! address, and a page cannot be evicted while it is being copied.
use crate::vm;
use abi::layout::PAGE_SIZE;
use alloc::vec::Vec;

/// A bad user pointer: the process is killed with `exit(-1)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadAddress;

/// Calls `f(kernel_ptr, len, offset)` for each page-sized piece of the user
/// range `[va, va + len)`.
fn for_each_piece(
    va: u64,
    len: usize,
    write: bool,
    mut f: impl FnMut(*mut u8, usize, usize),
) -> Result<(), BadAddress> {
    if len == 0 {
        return Ok(());
    }
    if !crate::mm::is_user_range(va, len as u64) {
        return Err(BadAddress);
    }
    let process = crate::sched::current_ref()
        .process
        .as_ref()
        .ok_or(BadAddress)?;
    let space = process.space().ok_or(BadAddress)?;
    let rsp = process
        .syscall_rsp
        .load(core::sync::atomic::Ordering::Relaxed);
    let mut done = 0usize;
    while done < len {
        let addr = va + done as u64;
        let n = ((PAGE_SIZE - addr % PAGE_SIZE) as usize).min(len - done);
        vm::access_user(space, addr, write, rsp, |p| f(p, n, done)).map_err(|_| BadAddress)?;
        done += n;
    }
    Ok(())
}

/// Checks that `[va, va + len)` can be accessed (and written when `write`),
/// faulting its pages in.
pub fn check(va: u64, len: usize, write: bool) -> Result<(), BadAddress> {
    for_each_piece(va, len, write, |_, _, _| {})
}

/// Copies user memory at `src` into `dst`.
pub fn copy_from_user(dst: &mut [u8], src: u64) -> Result<(), BadAddress> {
    let len = dst.len();
    for_each_piece(src, len, false, |p, n, off| {
        // SAFETY: `p` is the direct-map address of n bytes of a resident user
        // frame that cannot be evicted during the copy.
        unsafe { core::ptr::copy_nonoverlapping(p, dst[off..].as_mut_ptr(), n) }
    })
}

/// Copies `src` into user memory at `dst`.
pub fn copy_to_user(dst: u64, src: &[u8]) -> Result<(), BadAddress> {
    for_each_piece(dst, src.len(), true, |p, n, off| {
        // SAFETY: `p` is the direct-map address of n bytes of a resident,
        // user-writable frame that cannot be evicted during the copy.
        unsafe { core::ptr::copy_nonoverlapping(src[off..].as_ptr(), p, n) }
    })
}

/// Why a user string could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrError {
    /// The string reaches an address the process may not read.
    Bad(BadAddress),
    /// No NUL within the limit.
    TooLong,
}

/// Reads a NUL-terminated user string of at most `max` bytes (without the
/// NUL). A string the kernel has no memory for counts as too long.
pub fn read_cstr(src: u64, max: usize) -> Result<Vec<u8>, StrError> {
    let mut out = Vec::new();
    let mut addr = src;
    loop {
        let chunk = (PAGE_SIZE - addr % PAGE_SIZE) as usize;
        let mut buf = [0u8; 256];
        let n = chunk.min(buf.len());
        copy_from_user(&mut buf[..n], addr).map_err(StrError::Bad)?;
        let end = buf[..n].iter().position(|&b| b == 0);
        let take = end.unwrap_or(n);
        if out.len() + take > max {
            return Err(StrError::TooLong);
        }
        crate::mm::fallible::try_extend(&mut out, &buf[..take]).map_err(|_| StrError::TooLong)?;
        if end.is_some() {
            return Ok(out);
        }
        addr += n as u64;
    }
}

/// Reads N bytes of user memory, or None if they cannot all be read.
pub fn peek_user_bytes<const N: usize>(va: u64) -> Option<[u8; N]> {
    let mut b = [0u8; N];
    copy_from_user(&mut b, va).ok().map(|_| b)
}
