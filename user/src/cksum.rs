//! POSIX `cksum` (Pintos `tests/cksum.c`): a CRC-32 with polynomial
//! 0x04c11db7, most significant bit first, over the data and then its length,
//! inverted. The VM tests sum several megabytes per run, so the data goes
//! eight bytes a step through eight tables (slicing-by-8, about one cycle a
//! byte where a byte at a time takes about eight); the result is the same.
//!
//! Included by path from `vmtest.rs`, so the host tests that judge the
//! programs compute their sums with this very code.

const POLY: u32 = 0x04c1_1db7;

/// `TABLES[k][b]`: how byte `b` followed by `k` zero bytes changes the top
/// of the CRC register. `TABLES[0]` is the classic byte-at-a-time table.
const TABLES: [[u32; 256]; 8] = {
    let mut t = [[0u32; 256]; 8];
    let mut i = 0;
    while i < 256 {
        let mut c = (i as u32) << 24;
        let mut bit = 0;
        while bit < 8 {
            c = if c & 0x8000_0000 != 0 {
                (c << 1) ^ POLY
            } else {
                c << 1
            };
            bit += 1;
        }
        t[0][i] = c;
        i += 1;
    }
    let mut k = 1;
    while k < 8 {
        let mut i = 0;
        while i < 256 {
            let prev = t[k - 1][i];
            t[k][i] = (prev << 8) ^ t[0][(prev >> 24) as usize];
            i += 1;
        }
        k += 1;
    }
    t
};

/// POSIX `cksum` computed over data given in pieces.
#[derive(Clone, Copy, Debug, Default)]
pub struct Cksum {
    crc: u32,
    len: u64,
}

impl Cksum {
    /// The sum of no data.
    pub const fn new() -> Cksum {
        Cksum { crc: 0, len: 0 }
    }

    /// The register after one more byte.
    fn byte(crc: u32, b: u8) -> u32 {
        (crc << 8) ^ TABLES[0][((crc >> 24) as u8 ^ b) as usize]
    }

    /// The register after eight more bytes.
    fn eight(crc: u32, b: &[u8; 8]) -> u32 {
        let x = crc ^ u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
        TABLES[7][(x >> 24) as usize]
            ^ TABLES[6][(x >> 16) as u8 as usize]
            ^ TABLES[5][(x >> 8) as u8 as usize]
            ^ TABLES[4][x as u8 as usize]
            ^ TABLES[3][b[4] as usize]
            ^ TABLES[2][b[5] as usize]
            ^ TABLES[1][b[6] as usize]
            ^ TABLES[0][b[7] as usize]
    }

    /// Adds `data` to the sum.
    pub fn update(&mut self, data: &[u8]) {
        let mut crc = self.crc;
        let (words, rest) = data.as_chunks::<8>();
        for word in words {
            crc = Self::eight(crc, word);
        }
        for &b in rest {
            crc = Self::byte(crc, b);
        }
        self.crc = crc;
        self.len += data.len() as u64;
    }

    /// The checksum of everything added so far.
    pub fn finish(&self) -> u32 {
        let mut crc = self.crc;
        let mut n = self.len;
        while n != 0 {
            crc = Self::byte(crc, n as u8);
            n >>= 8;
        }
        !crc
    }
}

/// POSIX `cksum` of `data`.
pub fn cksum(data: &[u8]) -> u32 {
    let mut sum = Cksum::new();
    sum.update(data);
    sum.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cksum_matches_posix() {
        // `printf 123456789 | cksum` prints 930766865.
        assert_eq!(cksum(b"123456789"), 930_766_865);
        assert_eq!(cksum(b""), 4_294_967_295);
        let mut pieces = Cksum::new();
        pieces.update(b"1234");
        pieces.update(b"56789");
        assert_eq!(pieces.finish(), 930_766_865);
    }

    #[test]
    fn eight_bytes_a_step_is_eight_steps_of_one() {
        let data: [u8; 61] = core::array::from_fn(|i| (i as u8).wrapping_mul(167) ^ 0x5c);
        for len in 0..data.len() {
            for split in 0..=len {
                let mut slow = 0;
                for &b in &data[..len] {
                    slow = Cksum::byte(slow, b);
                }
                let mut fast = Cksum::new();
                fast.update(&data[..split]);
                fast.update(&data[split..len]);
                assert_eq!(fast.crc, slow, "{len} bytes split at {split}");
            }
        }
    }
}
