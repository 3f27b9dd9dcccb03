//! The guest's virtual memory as gdb sees it: kernel addresses and the
//! current process's user addresses, translated through the guest's own page
//! tables (from the vCPU's CR3) and read or written in guest RAM.

use vm_memory::{Bytes, GuestAddress, GuestMemoryBackend};

use crate::guest_stack::PageWalker;
use crate::memory::GuestMem;

const PAGE: u64 = 4096;

pub use crate::guest_stack::root;

/// The guest-physical address of `va`, if mapped.
pub fn translate(mem: &GuestMem, root: u64, va: u64) -> Option<u64> {
    PageWalker::new(mem, root).translate(va)
}

/// The page-sized pieces of `[va, va + len)`: (va, offset into the buffer, length).
fn pieces(va: u64, len: usize) -> impl Iterator<Item = (u64, usize, usize)> {
    let mut done = 0usize;
    std::iter::from_fn(move || {
        if done >= len {
            return None;
        }
        let at = va.wrapping_add(done as u64);
        let n = ((PAGE - at % PAGE) as usize).min(len - done);
        let piece = (at, done, n);
        done += n;
        Some(piece)
    })
}

/// Reads into `buf` from `va`; returns how many bytes were readable before
/// the first unmapped page (0 if `va` itself is not mapped).
pub fn read(mem: &GuestMem, root: u64, va: u64, buf: &mut [u8]) -> usize {
    let mut walker = PageWalker::new(mem, root);
    let mut read = 0;
    for (at, off, n) in pieces(va, buf.len()) {
        let Some(pa) = walker.translate(at) else {
            break;
        };
        if mem
            .read_slice(&mut buf[off..off + n], GuestAddress(pa))
            .is_err()
        {
            break;
        }
        read += n;
    }
    read
}

/// Writes `data` at `va`. Fails (writing nothing) unless every page is mapped.
pub fn write(mem: &GuestMem, root: u64, va: u64, data: &[u8]) -> Result<(), ()> {
    let mut walker = PageWalker::new(mem, root);
    let mut plan = Vec::new();
    for (at, off, n) in pieces(va, data.len()) {
        let pa = walker.translate(at).ok_or(())?;
        if !mem.check_range(GuestAddress(pa), n) {
            return Err(());
        }
        plan.push((pa, off, n));
    }
    for (pa, off, n) in plan {
        mem.write_slice(&data[off..off + n], GuestAddress(pa))
            .map_err(|_| ())?;
    }
    Ok(())
}

/// Reads `N` u64 words at `va`.
pub fn read_u64s<const N: usize>(mem: &GuestMem, root: u64, va: u64) -> Option<[u64; N]> {
    let mut bytes = vec![0u8; N * 8];
    if read(mem, root, va, &mut bytes) != bytes.len() {
        return None;
    }
    let mut out = [0u64; N];
    for (i, w) in out.iter_mut().enumerate() {
        *w = u64::from_le_bytes(bytes[i * 8..i * 8 + 8].try_into().ok()?);
    }
    Some(out)
}

/// Writes `words` at `va`.
pub fn write_u64s(mem: &GuestMem, root: u64, va: u64, words: &[u64]) -> Result<(), ()> {
    let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    write(mem, root, va, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use abi::layout::pte::{PRESENT, WRITABLE};

    /// Maps user pages 0x40_0000 -> 0x5000 and 0x40_1000 -> 0x7000 (not
    /// contiguous physically), leaving 0x40_2000 unmapped.
    fn tables(mem: &GuestMem) -> u64 {
        let f = PRESENT | WRITABLE;
        let w = |pa: u64, v: u64| mem.write_obj(v, GuestAddress(pa)).unwrap();
        w(0x10000, 0x11000 | f);
        w(0x11000, 0x12000 | f);
        w(0x12000 + 2 * 8, 0x13000 | f);
        w(0x13000, 0x5000 | f);
        w(0x13000 + 8, 0x7000 | f);
        0x10000
    }

    #[test]
    fn accesses_cross_pages_and_stop_at_holes() {
        let mem = crate::memory::create(1 << 20).unwrap();
        let root = tables(&mem);
        write(&mem, root, 0x40_0ffc, b"abcdefgh").unwrap();
        assert_eq!(crate::memory::read_bytes(&mem, 0x5ffc, 4).unwrap(), b"abcd");
        assert_eq!(crate::memory::read_bytes(&mem, 0x7000, 4).unwrap(), b"efgh");
        let mut buf = [0u8; 8];
        assert_eq!(read(&mem, root, 0x40_0ffc, &mut buf), 8);
        assert_eq!(&buf, b"abcdefgh");
        // Runs into the unmapped third page: a short read, and no write at all.
        let mut buf = [0u8; 16];
        assert_eq!(read(&mem, root, 0x40_1ff8, &mut buf), 8);
        assert!(write(&mem, root, 0x40_1ffc, b"12345678").is_err());
        assert_eq!(crate::memory::read_bytes(&mem, 0x7ffc, 4).unwrap(), [0; 4]);
        assert_eq!(read(&mem, root, 0x1234_5000, &mut buf), 0);
        write_u64s(&mem, root, 0x40_0100, &[1, 2]).unwrap();
        assert_eq!(read_u64s::<2>(&mem, root, 0x40_0100), Some([1, 2]));
        assert_eq!(root_of_pair(), 0x10000);
    }

    fn root_of_pair() -> u64 {
        root(0x11000, true)
    }
}
