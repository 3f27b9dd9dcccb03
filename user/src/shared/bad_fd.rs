//! Shared by `read-bad-fd` and `write-bad-fd`: file descriptors that were never
//! opened, or cannot be, must make the call fail (or kill the process).

/// Descriptors no test program has open.
pub const BAD_FDS: [i32; 6] = [0x2010_1234, 5, 1234, -1, -1024, i32::MIN];
