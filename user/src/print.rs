//! Console output: [`print!`](crate::print!) and [`println!`](crate::println!)
//! format into a stack buffer and issue one `write(1, ..)` per call, so lines
//! from different processes never interleave.

use core::fmt;

use crate::sys;

/// Size of the formatting buffer; longer output is truncated.
pub const LINE_MAX: usize = 1024;

/// A fixed-capacity byte buffer that formats into itself and truncates on overflow.
pub struct LineBuf<const N: usize> {
    buf: [u8; N],
    len: usize,
}

impl<const N: usize> LineBuf<N> {
    /// An empty buffer.
    pub const fn new() -> Self {
        LineBuf {
            buf: [0; N],
            len: 0,
        }
    }

    /// Appends as many bytes of `bytes` as fit.
    pub fn push_bytes(&mut self, bytes: &[u8]) {
        let n = bytes.len().min(N - self.len);
        self.buf[self.len..self.len + n].copy_from_slice(&bytes[..n]);
        self.len += n;
    }

    /// The bytes held so far.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl<const N: usize> Default for LineBuf<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> fmt::Write for LineBuf<N> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.push_bytes(s.as_bytes());
        Ok(())
    }
}

/// Formats `args` and writes the result to fd `fd` with one `write`.
pub fn write_fmt_to(fd: i32, args: fmt::Arguments) {
    let mut line = LineBuf::<LINE_MAX>::new();
    let _ = fmt::Write::write_fmt(&mut line, args);
    sys::write(fd, line.as_bytes());
}

/// Formats `args` to standard output with one `write`.
pub fn print_fmt(args: fmt::Arguments) {
    write_fmt_to(abi::syscall::STDOUT_FILENO, args);
}

/// Prints to standard output with one `write`.
#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => {
        $crate::print::print_fmt(format_args!($($arg)*))
    };
}

/// Prints a line to standard output with one `write`.
#[macro_export]
macro_rules! println {
    () => {
        $crate::print::print_fmt(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::print::print_fmt(format_args!("{}\n", format_args!($($arg)*)))
    };
}
