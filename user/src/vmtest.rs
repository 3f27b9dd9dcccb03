//! Helpers of the virtual-memory test programs (`pt-*`, `lazy-*`, `page-*`,
//! `mmap-*`, `swap-*` and their children).
//!
//! The top of this file is pure `core` code with no system calls, because the
//! host tests that judge these programs (`tests/tests/vm.rs`) include it by path
//! to compute the exact output they expect: the ARC4 stream cipher and the POSIX
//! `cksum` of Pintos' test library, a small deterministic random generator,
//! deterministic file contents, the block shuffle, page-aligned static arrays,
//! and the addresses, sizes and seeds the programs and their judges agree on.
//! The [`guest`] module holds the parts that make system calls (the merge-sort
//! driver of `page-merge-*`, page touching, memory accounting); it only exists
//! in the guest build.

use core::cell::UnsafeCell;

/// Size of a page.
pub const PAGE: usize = 4096;

/// Where the mmap tests map files (Pintos `ACTUAL`).
pub const MAP_ADDR: usize = 0x1000_0000;

/// A second mapping address, far from [`MAP_ADDR`].
pub const MAP_ADDR2: usize = 0x2000_0000;

/// The key the tests encrypt with (Pintos uses "foobar").
pub const KEY: &[u8] = b"foobar";

/// `page-shuffle`: size of the array (larger than the 2 MiB user pool).
pub const PAGE_SHUFFLE_SIZE: usize = 3 << 20;
/// `mmap-shuffle`: size of the mapped file (larger than the 2 MiB user pool).
pub const MMAP_SHUFFLE_SIZE: usize = 3 << 20;
/// Both shuffle tests exchange blocks of this size.
pub const SHUFFLE_BLOCK: usize = 1024;
/// Both shuffle tests shuffle this many times.
pub const SHUFFLE_ROUNDS: usize = 3;
/// Seed of `page-shuffle`'s initial contents and shuffles.
pub const PAGE_SHUFFLE_SEED: u64 = 0x5eed_0001;
/// Seed of `mmap-shuffle`'s initial contents and shuffles.
pub const MMAP_SHUFFLE_SEED: u64 = 0x5eed_0002;

/// `swap-file`, `swap-iter`: the name of the large file the host puts.
pub const LARGE_NAME: &str = "large.txt";
/// Size of `large.txt` (twice the 2 MiB user pool).
pub const LARGE_SIZE: usize = 4 << 20;
/// Seed of `large.txt`'s contents ([`fill_pattern`]).
pub const LARGE_SEED: u64 = 0x1a49e;

/// `mmap-persist`: the file written through a mapping and munmapped.
pub const PERSIST_NAME: &str = "persist.dat";
/// `mmap-persist`: the file written through a mapping and left mapped at exit.
pub const PERSIST_EXIT_NAME: &str = "persist-ex.dat";
/// `mmap-persist`: the file created right after [`PERSIST_NAME`], which the
/// tail of the last mapped page must never reach.
pub const PERSIST_NEIGHBOR_NAME: &str = "neighbor.dat";
/// Size of the `mmap-persist` files: two and a half pages, so that the last
/// mapped page has a tail past the end of the file.
pub const PERSIST_SIZE: usize = 2 * PAGE + PAGE / 2;
/// Seed of what `mmap-persist` writes through its mappings.
pub const PERSIST_SEED: u64 = 0xd15c;
/// Seed of what `mmap-persist` writes through its second mapping.
pub const PERSIST_EXIT_SEED: u64 = 0xd15d;
/// Seed of the neighbour file's contents (written with `write`).
pub const PERSIST_NEIGHBOR_SEED: u64 = 0xd15e;

/// The ARC4 stream cipher (Pintos `tests/arc4.c`): the tests encrypt buffers
/// and decrypt them again, so any page that came back wrong shows as a
/// nonzero byte.
pub struct Arc4 {
    s: [u8; 256],
    i: u8,
    j: u8,
}

impl Arc4 {
    /// A cipher keyed with `key` (which must not be empty).
    pub fn new(key: &[u8]) -> Arc4 {
        let mut s = [0u8; 256];
        for (i, b) in s.iter_mut().enumerate() {
            *b = i as u8;
        }
        let mut j: u8 = 0;
        for i in 0..256 {
            let k = key.get(i % key.len().max(1)).copied().unwrap_or(0);
            j = j.wrapping_add(s[i]).wrapping_add(k);
            s.swap(i, j as usize);
        }
        Arc4 { s, i: 0, j: 0 }
    }

    /// XORs `buf` with the next `buf.len()` bytes of the key stream.
    pub fn crypt(&mut self, buf: &mut [u8]) {
        let (s, mut i, mut j) = (&mut self.s, self.i, self.j);
        for b in buf {
            i = i.wrapping_add(1);
            j = j.wrapping_add(s[i as usize]);
            s.swap(i as usize, j as usize);
            let k = s[i as usize].wrapping_add(s[j as usize]);
            *b ^= s[k as usize];
        }
        (self.i, self.j) = (i, j);
    }
}

#[path = "cksum.rs"]
pub mod cksum;
pub use cksum::cksum;

/// A deterministic random generator (splitmix64).
pub struct Rng(u64);

impl Rng {
    /// A generator whose sequence `seed` determines.
    pub const fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next number of the sequence.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix(self.0)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
}

/// The splitmix64 finalizer: a bijective scramble of `z`.
const fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Byte `offset` of the deterministic contents named by `seed`: every page and
/// every byte position differs, so a misplaced or stale page shows.
pub const fn pattern_byte(seed: u64, offset: u64) -> u8 {
    (pattern_word(seed, offset / 8) >> (8 * (offset % 8))) as u8
}

/// Bytes `8 * index .. 8 * index + 8` of the contents named by `seed`, as a
/// little-endian word.
const fn pattern_word(seed: u64, index: u64) -> u64 {
    mix(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ index)
}

/// Fills `buf` with bytes `offset ..` of the contents named by `seed`: a
/// word at a time between the unaligned bytes at either end.
pub fn fill_pattern(buf: &mut [u8], seed: u64, offset: u64) {
    let (head, rest) = buf.split_at_mut(head_len(offset, buf.len()));
    for (k, b) in head.iter_mut().enumerate() {
        *b = pattern_byte(seed, offset + k as u64);
    }
    let first = (offset + head.len() as u64) / 8;
    let (words, tail) = rest.as_chunks_mut::<8>();
    for (w, word) in words.iter_mut().enumerate() {
        *word = pattern_word(seed, first + w as u64).to_le_bytes();
    }
    let tail_offset = (first + words.len() as u64) * 8;
    for (k, b) in tail.iter_mut().enumerate() {
        *b = pattern_byte(seed, tail_offset + k as u64);
    }
}

/// The index of the first byte of `buf` that is not byte `offset + index` of
/// the contents named by `seed`, if any (compared a word at a time).
pub fn pattern_mismatch(buf: &[u8], seed: u64, offset: u64) -> Option<usize> {
    // The first mismatch in `part`, which starts at `buf[from]`.
    let bytes = |from: usize, part: &[u8]| {
        part.iter()
            .enumerate()
            .position(|(k, &b)| b != pattern_byte(seed, offset + (from + k) as u64))
    };
    let head = head_len(offset, buf.len());
    if let Some(i) = bytes(0, &buf[..head]) {
        return Some(i);
    }
    let first = (offset + head as u64) / 8;
    let (words, tail) = buf[head..].as_chunks::<8>();
    for (w, word) in words.iter().enumerate() {
        if *word != pattern_word(seed, first + w as u64).to_le_bytes() {
            let at = head + 8 * w;
            return bytes(at, word).map(|i| at + i);
        }
    }
    let at = buf.len() - tail.len();
    bytes(at, tail).map(|i| at + i)
}

/// How many bytes from `offset` (at most `len`) come before the next
/// multiple of 8: the bytes the word-at-a-time loops take one by one.
fn head_len(offset: u64, len: usize) -> usize {
    ((8 - offset % 8) % 8).min(len as u64) as usize
}

/// Exchanges the `block`-byte blocks of `buf` in a random order (Fisher-Yates),
/// so that consecutive accesses land on random pages.
pub fn shuffle_blocks(buf: &mut [u8], block: usize, rng: &mut Rng) {
    let n = buf.len() / block;
    for i in 0..n.saturating_sub(1) {
        let j = i + rng.below(n - i);
        if j != i {
            let (low, high) = buf.split_at_mut(j * block);
            low[i * block..(i + 1) * block].swap_with_slice(&mut high[..block]);
        }
    }
}

/// The shuffle tests: fills `buf` with the contents named by `seed`, reports
/// `(0, cksum)`, then shuffles it [`SHUFFLE_ROUNDS`] times, reporting
/// `(round, cksum)` after each (rounds counted from 1).
pub fn shuffle_test(buf: &mut [u8], seed: u64, mut report: impl FnMut(usize, u32)) {
    fill_pattern(buf, seed, 0);
    report(0, cksum(buf));
    let mut rng = Rng::new(seed);
    for round in 1..=SHUFFLE_ROUNDS {
        shuffle_blocks(buf, SHUFFLE_BLOCK, &mut rng);
        report(round, cksum(buf));
    }
}

/// A page-aligned static byte array, for the large `.bss` and `.data` arrays of
/// the tests: aligned, so that no other variable shares its pages and the
/// tests can reason about exactly which pages they touch.
#[repr(C, align(4096))]
pub struct PageArray<const N: usize>(UnsafeCell<[u8; N]>);

// SAFETY: user processes are single-threaded; the contents are only reached
// through `get` and `as_ptr`, whose callers keep accesses exclusive.
unsafe impl<const N: usize> Sync for PageArray<N> {}

impl<const N: usize> PageArray<N> {
    /// An array of zeros (placed in `.bss`).
    pub const fn zeroed() -> Self {
        PageArray(UnsafeCell::new([0; N]))
    }

    /// An array holding bytes `0 .. N` of the contents named by `seed`
    /// (placed in `.data`, so it is loaded from the executable).
    pub const fn with_pattern(seed: u64) -> Self {
        let mut a = [0u8; N];
        let mut i = 0;
        while i < N {
            let word = pattern_word(seed, (i / 8) as u64).to_le_bytes();
            let mut k = 0;
            while k < 8 && i + k < N {
                a[i + k] = word[k];
                k += 1;
            }
            i += 8;
        }
        PageArray(UnsafeCell::new(a))
    }

    /// The first byte of the array.
    pub fn as_ptr(&self) -> *mut u8 {
        self.0.get().cast()
    }

    /// The array as a slice.
    ///
    /// # Safety
    /// No other reference to the array may be live while the result is.
    #[allow(clippy::mut_from_ref)]
    pub unsafe fn get(&self) -> &mut [u8] {
        // SAFETY: the pointer is valid for N bytes; exclusivity is the caller's promise.
        unsafe { &mut *self.0.get() }
    }
}

/// Sorts `buf` with a quicksort, the sort of `child-qsort` and
/// `child-qsort-mm` (Pintos' `qsort`): core's unstable sort, a quicksort
/// whose partitions do not branch on the data (several times faster on
/// random bytes than a textbook three-way partition, sorting in place the
/// same way).
pub fn quicksort(buf: &mut [u8]) {
    buf.sort_unstable();
}

/// Sorts `buf` with a counting sort, the sort of `child-sort`.
pub fn counting_sort(buf: &mut [u8]) {
    let mut histogram = [0usize; 256];
    for &b in buf.iter() {
        histogram[b as usize] += 1;
    }
    let mut pos = 0;
    for (value, &count) in histogram.iter().enumerate() {
        buf[pos..pos + count].fill(value as u8);
        pos += count;
    }
}

/// A page count rounded up from a byte count.
pub const fn pages(bytes: usize) -> usize {
    bytes.div_ceil(PAGE)
}

/// The guest-only helpers: they make system calls.
#[cfg(target_os = "none")]
pub mod guest {
    use crate::{boundary, check, sys};

    /// Opens `sample.txt` and maps its first page at [`super::MAP_ADDR`]
    /// (`writable` or not), checking both steps Pintos-style; returns the fd
    /// and the mapping.
    pub fn map_sample(writable: bool) -> (i32, *mut u8) {
        let fd = sys::open(c"sample.txt");
        check!(fd > 1, "open \"sample.txt\"");
        let map = sys::mmap(super::MAP_ADDR as *mut u8, super::PAGE, writable, fd, 0);
        check!(map as usize == super::MAP_ADDR, "mmap \"sample.txt\"");
        (fd, map)
    }

    /// Creates `mapped.txt`, maps it writable at [`super::MAP_ADDR`] and
    /// writes the sample text through the mapping, checking each step
    /// Pintos-style; returns the fd and the mapping (still mapped).
    pub fn write_sample_mapping() -> (i32, *mut u8) {
        use crate::sample::SAMPLE;
        check!(
            sys::create(c"mapped.txt", SAMPLE.len() as u32),
            "create \"mapped.txt\""
        );
        let fd = sys::open(c"mapped.txt");
        check!(fd > 1, "open \"mapped.txt\"");
        let map = sys::mmap(super::MAP_ADDR as *mut u8, super::PAGE, true, fd, 0);
        check!(map as usize == super::MAP_ADDR, "mmap \"mapped.txt\"");
        crate::msg!("write sample text through the mapping");
        // SAFETY: the mapping covers one writable page at MAP_ADDR.
        unsafe { core::ptr::copy_nonoverlapping(SAMPLE.as_ptr(), map, SAMPLE.len()) };
        (fd, map)
    }

    /// The current stack pointer.
    #[inline(always)]
    pub fn rsp() -> usize {
        let rsp: usize;
        // SAFETY: reads a register; no memory access.
        unsafe {
            core::arch::asm!("mov {}, rsp", out(reg) rsp, options(nomem, nostack, preserves_flags))
        };
        rsp
    }

    /// Reads one byte of every page in `start .. start + len` (faulting them in).
    pub fn touch_pages(start: *const u8, len: usize) {
        let mut off = 0;
        while off < len {
            // SAFETY: the caller passes a range the process may read.
            unsafe { core::ptr::read_volatile(start.wrapping_add(off)) };
            off += super::PAGE;
        }
    }

    /// Reads one byte of every page of the program image (code, read-only data,
    /// data and bss) except those of `skip`, so that all of them are resident.
    pub fn touch_image_except(skip: core::ops::Range<usize>) {
        let start = abi::layout::USER_LINK_BASE as usize;
        let end = boundary::image_end() as usize;
        let mut page = start;
        while page < end {
            if !skip.contains(&page) {
                // SAFETY: every page of the image is mapped and readable.
                unsafe { core::ptr::read_volatile(page as *const u8) };
            }
            page += super::PAGE;
        }
    }

    /// User frames plus swap slots in use, from the kernel's accounting
    /// (slots only the swap cache holds are not counted: they are the
    /// copies of resident pages, given back when swap runs out).
    pub fn memory_in_use() -> Option<u64> {
        sys::memstats().map(|m| m.user_frames_used + m.swap_slots_used - m.swap_slots_cached)
    }

    /// Swap slots in use, from the kernel's accounting.
    pub fn swap_slots_used() -> Option<u64> {
        sys::memstats().map(|m| m.swap_slots_used)
    }

    /// Whether `addr` is resident (get_phys_addr reports a frame).
    pub fn resident(addr: usize) -> bool {
        sys::get_phys_addr(addr as *const u8) != 0
    }

    /// An address 4 KiB, 8 KiB, ... (at most 64 KiB) below the caller's
    /// `rsp` whose page does not exist: no stack growth reaches it. Which
    /// one depends on how deep the stack went before (argument set-up and
    /// start-up messages touch a page or two below the first); fails the
    /// test if all of them exist.
    #[inline(always)]
    pub fn absent_below_rsp() -> usize {
        let top = rsp();
        match (1..=16)
            .map(|k| top - k * super::PAGE)
            .find(|&a| !resident(a))
        {
            Some(addr) => addr,
            None => crate::fail!("every page up to 64 KiB below rsp exists"),
        }
    }
}

/// The merge-sort pipeline of `page-merge-seq`, `-par`, `-stk` and `-mm`
/// (Pintos `tests/vm/parallel-merge.c`): the parent fills a buffer with random
/// bytes, has child processes sort it in chunks, each chunk passed through a
/// file, merges the sorted chunks into a second buffer and checks the result
/// against the histogram of the input.
#[cfg(target_os = "none")]
pub mod merge {
    use super::{Arc4, KEY, PageArray};
    use crate::{cformat, fail, msg, sys};

    /// Bytes sorted (the parent's two buffers together exceed the 1 MiB user pool).
    pub const SIZE: usize = 1 << 20;
    /// Chunks sorted by children.
    pub const CHUNKS: usize = 8;
    /// Bytes per chunk (and per file).
    pub const CHUNK: usize = SIZE / CHUNKS;

    static BUF1: PageArray<SIZE> = PageArray::zeroed();
    static BUF2: PageArray<SIZE> = PageArray::zeroed();

    /// How the chunks are sorted.
    #[derive(Clone, Copy, PartialEq, Eq)]
    pub enum Mode {
        /// One child after the other, all through one file `buffer`.
        Sequential,
        /// All children at once, chunk `i` through file `buf<i>`.
        Parallel,
    }

    /// Runs the pipeline with `child` (a program that sorts the file named by
    /// its argument and exits with `status`).
    pub fn run(mode: Mode, child: &str, status: i32) {
        // SAFETY: the only references to the buffers are these two.
        let (buf1, buf2) = unsafe { (BUF1.get(), BUF2.get()) };
        let mut histogram = [0usize; 256];

        msg!("init");
        let mut arc4 = Arc4::new(KEY);
        arc4.crypt(buf1);
        for &b in buf1.iter() {
            histogram[b as usize] += 1;
        }

        match mode {
            Mode::Sequential => {
                for i in 0..CHUNKS {
                    msg!("sort chunk {i}");
                    let pid = start_child(child, "buffer", i, buf1);
                    wait_child(pid, i, status);
                    read_back("buffer", &mut buf1[i * CHUNK..(i + 1) * CHUNK]);
                }
            }
            Mode::Parallel => {
                let mut pids = [0; CHUNKS];
                for (i, pid) in pids.iter_mut().enumerate() {
                    msg!("sort chunk {i}");
                    let name = cformat!("buf{i}");
                    let name = name.as_cstr().to_str().unwrap_or("buf");
                    *pid = start_child(child, name, i, buf1);
                }
                for (i, &pid) in pids.iter().enumerate() {
                    msg!("wait for child {i}");
                    wait_child(pid, i, status);
                }
                for i in 0..CHUNKS {
                    let name = cformat!("buf{i}");
                    let name = name.as_cstr().to_str().unwrap_or("buf");
                    read_back(name, &mut buf1[i * CHUNK..(i + 1) * CHUNK]);
                }
            }
        }

        msg!("merge");
        merge(buf1, buf2);

        msg!("verify");
        let mut idx = 0;
        for (value, &count) in histogram.iter().enumerate() {
            for _ in 0..count {
                if buf2[idx] as usize != value {
                    fail!("bad value {} in byte {idx}", buf2[idx]);
                }
                idx += 1;
            }
        }
        msg!("success, buf_idx={idx}");
    }

    /// Writes chunk `i` of `buf1` to file `name` and starts `child name` on it.
    fn start_child(child: &str, name: &str, i: usize, buf1: &[u8]) -> sys::Pid {
        let cname = cformat!("{name}");
        let _ = sys::remove(cname.as_cstr());
        if !sys::create(cname.as_cstr(), CHUNK as u32) {
            fail!("create \"{name}\"");
        }
        let fd = sys::open(cname.as_cstr());
        if fd < 2 {
            fail!("open \"{name}\"");
        }
        if sys::write(fd, &buf1[i * CHUNK..(i + 1) * CHUNK]) != CHUNK as i32 {
            fail!("write \"{name}\"");
        }
        sys::close(fd);
        let fork_name = cformat!("{child}");
        let pid = sys::fork(fork_name.as_cstr());
        if pid == 0 {
            let cmd = cformat!("{child} {name}");
            sys::exec(cmd.as_cstr());
            fail!("exec \"{child} {name}\"");
        }
        if pid < 0 {
            fail!("fork \"{child}\" for chunk {i}");
        }
        pid
    }

    /// Waits for the child that sorted chunk `i`, which must exit with `status`.
    fn wait_child(pid: sys::Pid, i: usize, status: i32) {
        let got = sys::wait(pid);
        if got != status {
            fail!("child {i} exited with {got}, expected {status}");
        }
    }

    /// Reads the sorted chunk back from file `name` into `chunk`.
    fn read_back(name: &str, chunk: &mut [u8]) {
        let cname = cformat!("{name}");
        let fd = sys::open(cname.as_cstr());
        if fd < 2 {
            fail!("open \"{name}\" for reading");
        }
        if sys::read(fd, chunk) != chunk.len() as i32 {
            fail!("read \"{name}\"");
        }
        sys::close(fd);
    }

    /// Merges the [`CHUNKS`] sorted chunks of `src` into `dst`, value by
    /// value and, within a value, chunk by chunk: the order in which a merge
    /// that always takes the smallest head (the earliest chunk among equal
    /// ones) takes them, so each chunk is read front to back, interleaved
    /// the same way, without comparing every head for every byte. Fails if
    /// a chunk came back unsorted.
    fn merge(src: &[u8], dst: &mut [u8]) {
        let mut heads = [0usize; CHUNKS];
        let mut out = 0;
        for value in 0..=u8::MAX {
            for (c, head) in heads.iter_mut().enumerate() {
                let rest = &src[c * CHUNK + *head..(c + 1) * CHUNK];
                let run = rest.iter().take_while(|&&b| b == value).count();
                dst[out..out + run].copy_from_slice(&rest[..run]);
                *head += run;
                out += run;
            }
        }
        if let Some(c) = heads.iter().position(|&h| h != CHUNK) {
            fail!("chunk {c} is not sorted");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arc4_round_trips_and_matches_the_reference_stream() {
        // RFC 6229 test vector for key 0x0102030405: first key-stream bytes.
        let mut ks = [0u8; 4];
        Arc4::new(&[1, 2, 3, 4, 5]).crypt(&mut ks);
        assert_eq!(ks, [0xb2, 0x39, 0x63, 0x05]);
        let mut buf = [0u8; 100];
        Arc4::new(KEY).crypt(&mut buf);
        assert!(buf.iter().any(|&b| b != 0));
        Arc4::new(KEY).crypt(&mut buf);
        assert!(buf.iter().all(|&b| b == 0));
    }

    #[test]
    fn patterns_differ_by_seed_and_offset() {
        let mut a = [0u8; 64];
        fill_pattern(&mut a, 1, 4096);
        assert_eq!(pattern_mismatch(&a, 1, 4096), None);
        assert!(pattern_mismatch(&a, 1, 0).is_some());
        assert!(pattern_mismatch(&a, 2, 4096).is_some());
        let arr = PageArray::<64>::with_pattern(7);
        // SAFETY: the only reference.
        assert_eq!(pattern_mismatch(unsafe { arr.get() }, 7, 0), None);
    }

    #[test]
    fn word_at_a_time_patterns_match_the_bytes() {
        let mut buf = [0u8; 40];
        for offset in [0u64, 1, 7, 4093] {
            for start in 0..9 {
                for end in start..buf.len() {
                    buf.fill(0xee);
                    let part = &mut buf[start..end];
                    fill_pattern(part, 9, offset);
                    for (k, &b) in part.iter().enumerate() {
                        assert_eq!(
                            b,
                            pattern_byte(9, offset + k as u64),
                            "{offset} {start}..{end}"
                        );
                    }
                    assert_eq!(pattern_mismatch(part, 9, offset), None);
                    for bad in 0..part.len() {
                        part[bad] ^= 0x10;
                        assert_eq!(pattern_mismatch(part, 9, offset), Some(bad));
                        part[bad] ^= 0x10;
                    }
                }
            }
        }
    }

    #[test]
    fn sorts_sort() {
        let mut a = [0u8; 4096];
        Arc4::new(KEY).crypt(&mut a);
        let mut want = a;
        want.sort_unstable();
        counting_sort(&mut a);
        assert_eq!(a, want);
        let mut same = [7u8; 1000];
        counting_sort(&mut same);
        assert!(same.iter().all(|&x| x == 7));
    }

    #[test]
    fn shuffles_permute_blocks() {
        let mut buf: Vec<u8> = (0..64u8).collect();
        shuffle_blocks(&mut buf, 4, &mut Rng::new(3));
        assert_ne!(buf, (0..64u8).collect::<Vec<_>>());
        let mut sorted = buf.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..64u8).collect::<Vec<_>>());
        for block in buf.chunks(4) {
            assert_eq!(block[0] % 4, 0);
            assert_eq!(block[3], block[0] + 3);
        }
    }
}
