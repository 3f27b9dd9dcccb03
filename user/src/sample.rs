//! The contents of `sample.txt` (`user/data/sample.txt`), which the tests put
//! into the guest file system and read back.

/// The bytes of `sample.txt`.
pub const SAMPLE: &[u8] = include_bytes!("../data/sample.txt");

/// Whether `buf` holds exactly [`SAMPLE`].
pub fn matches(buf: &[u8]) -> bool {
    buf == SAMPLE
}
