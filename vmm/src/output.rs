//! The VMM's own output streams: standard output (the guest console) and
//! standard error (the VMM's messages), written so that they never fail the
//! VMM. A write error (a closed pipe, a full disk, a closed descriptor) marks
//! the stream broken: later writes to it are dropped, and the run goes on to
//! end with the guest's status. Interrupted writes are retried, and a
//! non-blocking descriptor that is full is waited for.
//!
//! [`diag!`](crate::diag) and [`diagln!`](crate::diagln) replace `eprint!` and
//! `eprintln!` (which panic when standard error is gone); [`Stdout`] is the
//! console's writer.

use std::fmt;
use std::fs::File;
use std::io::{self, Write};
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::Duration;

/// How long to wait before retrying a write to a full non-blocking descriptor.
const FULL_RETRY: Duration = Duration::from_millis(1);

/// One of the process's standard streams, written through its own duplicate
/// of the descriptor (no buffering: every write reaches the descriptor).
struct Stream {
    /// `None` when the descriptor could not be duplicated (it is closed).
    file: Mutex<Option<File>>,
    broken: AtomicBool,
}

impl Stream {
    fn open(fd: io::Result<std::os::fd::OwnedFd>) -> Stream {
        let file = fd.ok().map(File::from);
        Stream {
            broken: AtomicBool::new(file.is_none()),
            file: Mutex::new(file),
        }
    }

    /// Writes all of `bytes`, or marks the stream broken and drops the rest.
    fn write(&self, bytes: &[u8]) {
        if bytes.is_empty() || self.broken.load(Ordering::Relaxed) {
            return;
        }
        let mut file = self.file.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(file) = file.as_mut() else {
            return;
        };
        if write_all(file, bytes).is_err() {
            self.broken.store(true, Ordering::Relaxed);
        }
    }
}

/// Writes all of `bytes` to `w`: retries interrupted writes, waits on a full
/// non-blocking descriptor; fails on any other error or a zero-length write.
pub fn write_all(w: &mut dyn Write, mut bytes: &[u8]) -> io::Result<()> {
    while !bytes.is_empty() {
        match w.write(bytes) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => bytes = &bytes[n..],
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => std::thread::sleep(FULL_RETRY),
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn stdout_stream() -> &'static Stream {
    static STDOUT: OnceLock<Stream> = OnceLock::new();
    STDOUT.get_or_init(|| Stream::open(io::stdout().as_fd().try_clone_to_owned()))
}

fn stderr_stream() -> &'static Stream {
    static STDERR: OnceLock<Stream> = OnceLock::new();
    STDERR.get_or_init(|| Stream::open(io::stderr().as_fd().try_clone_to_owned()))
}

/// Writes formatted text to standard error, unless it is broken (see the
/// module doc). Used through [`diag!`](crate::diag) and [`diagln!`](crate::diagln).
pub fn stderr_fmt(args: fmt::Arguments) {
    match args.as_str() {
        Some(s) => stderr_stream().write(s.as_bytes()),
        None => stderr_stream().write(args.to_string().as_bytes()),
    }
}

/// Writes `text` to standard output, unless it is broken.
pub fn stdout_str(text: &str) {
    stdout_stream().write(text.as_bytes());
}

/// Whether a write to standard output or standard error has failed.
pub fn broken() -> (bool, bool) {
    (
        stdout_stream().broken.load(Ordering::Relaxed),
        stderr_stream().broken.load(Ordering::Relaxed),
    )
}

/// The process's standard output as a console writer: every write succeeds
/// (bytes are dropped once the stream is broken).
#[derive(Clone, Copy, Debug, Default)]
pub struct Stdout;

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        stdout_stream().write(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Prints to the VMM's standard error without ever failing (see
/// [`output`](crate::output)).
#[macro_export]
macro_rules! diag {
    ($($arg:tt)*) => { $crate::output::stderr_fmt(format_args!($($arg)*)) };
}

/// Prints a line to the VMM's standard error without ever failing.
#[macro_export]
macro_rules! diagln {
    ($($arg:tt)*) => {
        $crate::output::stderr_fmt(format_args!("{}\n", format_args!($($arg)*)))
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer that takes at most 3 bytes a call and fails in the ways listed.
    struct Flaky {
        got: Vec<u8>,
        errors: Vec<io::ErrorKind>,
    }

    impl Write for Flaky {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if let Some(kind) = self.errors.pop() {
                return Err(kind.into());
            }
            let n = buf.len().min(3);
            self.got.extend_from_slice(&buf[..n]);
            Ok(n)
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn short_interrupted_and_full_writes_are_retried() {
        let mut w = Flaky {
            got: Vec::new(),
            errors: vec![io::ErrorKind::WouldBlock, io::ErrorKind::Interrupted],
        };
        write_all(&mut w, b"hello world").unwrap();
        assert_eq!(w.got, b"hello world");
    }

    #[test]
    fn a_broken_pipe_fails_once_and_is_remembered() {
        let mut w = Flaky {
            got: Vec::new(),
            errors: vec![io::ErrorKind::BrokenPipe],
        };
        assert!(write_all(&mut w, b"x").is_err());
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let s = Stream::open(Ok(writer.into()));
        s.write(b"to nobody");
        assert!(s.broken.load(Ordering::Relaxed));
        s.write(b"dropped quietly");
        let closed = Stream::open(Err(io::ErrorKind::Other.into()));
        assert!(closed.broken.load(Ordering::Relaxed));
        closed.write(b"nothing");
    }
}
