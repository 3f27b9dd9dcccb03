//! Access to user memory from system calls: every user pointer is checked
//! (user range, mapped, writable when written) and the bytes are copied through
//! the frames' direct-map addresses, so the kernel never faults on a user address.
use crate::mm::phys_to_virt;
use crate::sched;
use abi::layout::PAGE_SIZE;
use alloc::vec::Vec;

/// A bad user pointer: the process is killed with `exit(-1)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadAddress;

/// Calls `f(kernel_ptr, len, offset)` for each page-sized piece of the user
/// range `[va, va + len)`, after resolving it for reading or writing.
fn for_each_piece(
    va: u64,
    len: usize,
    write: bool,
    mut f: impl FnMut(*mut u8, usize, usize),
) -> Result<(), BadAddress> {
    if len == 0 {
        return Ok(());
    }
    if !crate::mm::addrspace::is_user_range(va, len as u64) {
        return Err(BadAddress);
    }
    let process = sched::current_ref().process.as_ref().ok_or(BadAddress)?;
    let mut done = 0usize;
    while done < len {
        let addr = va + done as u64;
        let n = ((PAGE_SIZE - addr % PAGE_SIZE) as usize).min(len - done);
        let pa = process
            .aspace
            .lock()
            .as_mut()
            .and_then(|a| a.resolve(addr, write))
            .ok_or(BadAddress)?;
        f(phys_to_virt(pa) as *mut u8, n, done);
        done += n;
    }
    Ok(())
}

/// Checks that `[va, va + len)` is mapped (and writable when `write`).
pub fn check(va: u64, len: usize, write: bool) -> Result<(), BadAddress> {
    for_each_piece(va, len, write, |_, _, _| {})
}

/// Copies user memory at `src` into `dst`.
pub fn copy_from_user(dst: &mut [u8], src: u64) -> Result<(), BadAddress> {
    let len = dst.len();
    for_each_piece(src, len, false, |p, n, off| {
        // SAFETY: `p` is the direct-map address of n bytes of a resident user frame.
        unsafe { core::ptr::copy_nonoverlapping(p, dst[off..].as_mut_ptr(), n) }
    })
}

/// Copies `src` into user memory at `dst`.
pub fn copy_to_user(dst: u64, src: &[u8]) -> Result<(), BadAddress> {
    for_each_piece(dst, src.len(), true, |p, n, off| {
        // SAFETY: `p` is the direct-map address of n bytes of a resident, user-writable frame.
        unsafe { core::ptr::copy_nonoverlapping(src[off..].as_ptr(), p, n) }
    })
}

/// Why a user string could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrError {
    Bad(BadAddress),
    /// No NUL within the limit.
    TooLong,
}

/// Reads a NUL-terminated user string of at most `max` bytes (without the NUL).
pub fn read_cstr(src: u64, max: usize) -> Result<Vec<u8>, StrError> {
    let mut out = Vec::new();
    let mut addr = src;
    loop {
        let chunk = (PAGE_SIZE - addr % PAGE_SIZE) as usize;
        let mut buf = [0u8; 256];
        let n = chunk.min(buf.len());
        copy_from_user(&mut buf[..n], addr).map_err(StrError::Bad)?;
        if let Some(z) = buf[..n].iter().position(|&b| b == 0) {
            out.extend_from_slice(&buf[..z]);
            return if out.len() > max {
                Err(StrError::TooLong)
            } else {
                Ok(out)
            };
        }
        out.extend_from_slice(&buf[..n]);
        if out.len() > max {
            return Err(StrError::TooLong);
        }
        addr += n as u64;
    }
}

/// Reads N bytes of user memory, or None if they are not all mapped.
pub fn peek_user_bytes<const N: usize>(va: u64) -> Option<[u8; N]> {
    let mut b = [0u8; N];
    copy_from_user(&mut b, va).ok().map(|_| b)
}
