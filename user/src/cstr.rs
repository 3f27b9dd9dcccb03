//! NUL-terminated strings built on the stack, for system calls whose
//! arguments are computed at run time (`exec` command lines, file names).

use core::ffi::CStr;
use core::fmt;

/// A NUL-terminated string of at most `N - 1` bytes; longer input is truncated.
pub struct CBuf<const N: usize> {
    buf: [u8; N],
    len: usize,
}

impl<const N: usize> CBuf<N> {
    /// The empty string.
    pub const fn new() -> Self {
        CBuf {
            buf: [0; N],
            len: 0,
        }
    }

    /// A copy of `s`, truncated to fit.
    pub fn from_bytes(s: &[u8]) -> Self {
        let mut b = Self::new();
        b.push(s);
        b
    }

    /// Appends bytes, keeping room for the terminating NUL.
    pub fn push(&mut self, s: &[u8]) {
        let room = N.saturating_sub(1) - self.len.min(N.saturating_sub(1));
        let n = s.len().min(room);
        self.buf[self.len..self.len + n].copy_from_slice(&s[..n]);
        self.len += n;
    }

    /// The string up to its first NUL.
    pub fn as_cstr(&self) -> &CStr {
        CStr::from_bytes_until_nul(&self.buf).unwrap_or(c"")
    }

    /// Pointer to the first byte.
    pub fn as_ptr(&self) -> *const u8 {
        self.buf.as_ptr()
    }

    /// The bytes without the NUL.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl<const N: usize> Default for CBuf<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> fmt::Write for CBuf<N> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.push(s.as_bytes());
        Ok(())
    }
}

/// Formats into a [`CBuf<256>`] (a NUL-terminated string on the stack).
#[macro_export]
macro_rules! cformat {
    ($($arg:tt)*) => {{
        let mut b = $crate::CBuf::<256>::new();
        let _ = core::fmt::Write::write_fmt(&mut b, format_args!($($arg)*));
        b
    }};
}
