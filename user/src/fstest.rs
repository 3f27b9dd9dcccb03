//! What the file-system cache tests write and read, shared by the guest
//! programs (`syn-read`, `syn-write`, `cache-persist`, `cache-evict`,
//! `cache-grow`) and the host tests that check a disk image after the run
//! (`tests/tests/filesys.rs` includes this file). Contents come from [`crate::vmtest::pattern_byte`].

/// `syn-read`: the shared file's name.
pub const SYN_READ_NAME: &str = "data";
/// `syn-read`: the file's size in bytes.
pub const SYN_READ_SIZE: usize = 1024;
/// `syn-read`: the seed of the file's contents.
pub const SYN_READ_SEED: u64 = 0x5e4d;
/// Children that read it at once, one byte per `read`.
pub const SYN_READ_CHILDREN: usize = 10;

/// `syn-write`: the shared file's name; child `i` writes chunk `i`, one byte
/// per `write` at first and the rest in one.
pub const SYN_WRITE_NAME: &str = "stuff";
/// `syn-write`: the bytes of each child's chunk.
pub const SYN_WRITE_CHUNK: usize = 512;
/// `syn-write`: the children, one chunk each.
pub const SYN_WRITE_CHILDREN: usize = 10;
/// `syn-write`: the seed of the file's contents.
pub const SYN_WRITE_SEED: u64 = 0x5e4e;

/// `cache-persist`: the file a child writes before it exits (the parent then
/// waits for the VM's timeout).
pub const PERSIST_CACHE_NAME: &str = "exited.dat";
/// `cache-persist`: the file's size in bytes.
pub const PERSIST_CACHE_SIZE: usize = 3 * 4096 + 700;
/// `cache-persist`: the seed of the file's contents.
pub const PERSIST_CACHE_SEED: u64 = 0xe417;

/// `cache-evict`: a file larger than the block cache can grow (an eighth of
/// the kernel pool: about 1.1 MiB at the test's `--mem 20M`), written in pieces
/// that do not line up with sectors, then read back.
pub const EVICT_NAME: &str = "big.dat";
/// `cache-evict`: the file's size in bytes.
pub const EVICT_SIZE: usize = 1536 * 1024 + 300;
/// `cache-evict`: the bytes of each `write` and `read`.
pub const EVICT_PIECE: usize = 1000;
/// `cache-evict`: the seed of the file's contents.
pub const EVICT_SEED: u64 = 0xb16;

/// Byte `offset` of `syn-write`'s file once every child has written.
pub const fn syn_write_byte(offset: u64) -> u8 {
    crate::vmtest::pattern_byte(SYN_WRITE_SEED, offset)
}

/// `cache-grow`: a file larger than the 1 MiB the block cache held before it
/// grew on demand, and smaller than what it can grow to at the default
/// `--mem 64M` (an eighth of the kernel pool, about 3.8 MiB).
pub const GROW_NAME: &str = "grow.dat";
/// `cache-grow`: the file's size in bytes (40 blocks of 32 KiB).
pub const GROW_SIZE: usize = 1280 * 1024;
/// `cache-grow`: the bytes of each `write` and `read`.
pub const GROW_PIECE: usize = 4096;
/// `cache-grow`: the seed of the file's contents.
pub const GROW_SEED: u64 = 0x960;
/// `cache-grow`: what the cache may hold when the program starts (the
/// blocks read so far: the directory and the program), well under the 1 MiB
/// it took at boot before.
pub const GROW_START_MAX: usize = 256 * 1024;

/// The guest-only helpers: they make system calls.
#[cfg(target_os = "none")]
pub mod guest {
    use crate::vmtest::fill_pattern;
    use crate::{cformat, check, fail, msg, sys};

    /// Creates the file `name` of `size` bytes and writes the contents named
    /// by `seed` into it, `PIECE` bytes per `write` (pieces that need not line
    /// up with sectors), checking each step Pintos-style (`create "NAME"`,
    /// `open "NAME"`, then `wrote "NAME"`); returns the open descriptor,
    /// positioned at the end. Fails the test on any error.
    pub fn write_patterned<const PIECE: usize>(name: &str, size: usize, seed: u64) -> i32 {
        let cname = cformat!("{name}");
        check!(
            sys::create(cname.as_cstr(), size as u32),
            "create \"{name}\""
        );
        let fd = sys::open(cname.as_cstr());
        check!(fd > 1, "open \"{name}\"");
        write_pattern::<PIECE>(fd, name, size, seed);
        msg!("wrote \"{name}\"");
        fd
    }

    /// Writes `size` bytes of the contents named by `seed` to the file open
    /// at `fd` (`name`, for the message), `PIECE` bytes per `write`. Fails
    /// the test on a short write.
    pub fn write_pattern<const PIECE: usize>(fd: i32, name: &str, size: usize, seed: u64) {
        let mut piece = [0u8; PIECE];
        let mut done = 0;
        while done < size {
            let n = PIECE.min(size - done);
            fill_pattern(&mut piece[..n], seed, done as u64);
            if sys::write(fd, &piece[..n]) != n as i32 {
                fail!("write \"{name}\" at {done}");
            }
            done += n;
        }
    }

    /// Reads the file open at `fd` (`name`, `size` bytes) from its start,
    /// `PIECE` bytes per `read`, and checks it holds the contents named by
    /// `seed`. Fails the test on a short read or a wrong byte.
    pub fn read_patterned<const PIECE: usize>(fd: i32, name: &str, size: usize, seed: u64) {
        sys::seek(fd, 0);
        let mut piece = [0u8; PIECE];
        let mut done = 0;
        while done < size {
            let n = PIECE.min(size - done);
            if sys::read(fd, &mut piece[..n]) != n as i32 {
                fail!("read \"{name}\" at {done}");
            }
            if let Some(i) = crate::vmtest::pattern_mismatch(&piece[..n], seed, done as u64) {
                fail!("byte {} of \"{name}\" is wrong", done + i);
            }
            done += n;
        }
    }
}
