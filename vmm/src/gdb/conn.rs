//! gdb's connection as gdbstub sees it: a TCP stream with an output buffer
//! and an input buffer. gdbstub writes a reply a byte at a time and reads a
//! byte at a time; on the bare `TcpStream` that is a `write` system call and
//! a TCP segment per byte out (5 KB of target description: 5,000 of each)
//! and two system calls per byte in. Here a reply goes out in one `write`
//! when gdbstub flushes it (and, at the latest, before the stub waits for
//! gdb or runs the guest), and input is read in blocks.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::os::fd::{AsRawFd, RawFd};

use gdbstub::conn::{Connection, ConnectionExt};

/// How much one read from the socket takes at most.
const READ_BLOCK: usize = 4096;

/// A buffered gdb connection.
pub struct Conn {
    stream: TcpStream,
    /// Bytes written and not yet sent.
    out: Vec<u8>,
    /// Bytes received and not yet read: `input[at..]`.
    input: Vec<u8>,
    at: usize,
}

impl Conn {
    /// Wraps `stream` (a blocking socket).
    pub fn new(stream: TcpStream) -> Conn {
        Conn {
            stream,
            out: Vec::new(),
            input: Vec::new(),
            at: 0,
        }
    }

    /// The socket, for a watcher to poll. Bytes already in the input buffer
    /// do not show there: see [`Conn::has_input`].
    pub fn raw_fd(&self) -> RawFd {
        self.stream.as_raw_fd()
    }

    /// Whether bytes were received that gdbstub has not read yet.
    pub fn has_input(&self) -> bool {
        self.at < self.input.len()
    }

    /// Sends what was written. Fails if the socket does.
    pub fn send(&mut self) -> io::Result<()> {
        if self.out.is_empty() {
            return Ok(());
        }
        let result = Write::write_all(&mut self.stream, &self.out);
        self.out.clear();
        result
    }

    /// Reads what the socket holds into the input buffer, waiting for at
    /// least a byte if `wait`. Returns whether a byte is buffered now; fails
    /// if the socket does, or with `UnexpectedEof` once gdb closed it.
    fn fill(&mut self, wait: bool) -> io::Result<bool> {
        if self.has_input() {
            return Ok(true);
        }
        self.input.resize(READ_BLOCK, 0);
        self.at = 0;
        if !wait {
            self.stream.set_nonblocking(true)?;
        }
        let got = loop {
            match Read::read(&mut self.stream, &mut self.input) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                other => break other,
            }
        };
        if !wait {
            self.stream.set_nonblocking(false)?;
        }
        let result = match got {
            Ok(0) => Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "gdb closed the connection",
            )),
            Ok(n) => Ok(n),
            Err(e) if !wait && e.kind() == io::ErrorKind::WouldBlock => Ok(0),
            Err(e) => Err(e),
        };
        self.input.truncate(*result.as_ref().unwrap_or(&0));
        result.map(|n| n > 0)
    }
}

impl Drop for Conn {
    /// Sends what is left (the `+` of a kill, which gdbstub does not flush).
    fn drop(&mut self) {
        // Best effort: gdb may be gone.
        let _ = self.send();
    }
}

impl Connection for Conn {
    type Error = io::Error;

    fn write(&mut self, byte: u8) -> io::Result<()> {
        self.out.push(byte);
        Ok(())
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.out.extend_from_slice(buf);
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send()
    }

    fn on_session_start(&mut self) -> io::Result<()> {
        // Replies are whole packets now: send each at once.
        self.stream.set_nodelay(true)
    }
}

impl ConnectionExt for Conn {
    /// The next byte from gdb, waiting for it (after sending what is
    /// unsent: gdbstub leaves the `+` of a deferred reply unflushed).
    fn read(&mut self) -> io::Result<u8> {
        self.send()?;
        self.fill(true)?;
        let byte = self.input[self.at];
        self.at += 1;
        Ok(byte)
    }

    /// The next byte from gdb if one has arrived.
    fn peek(&mut self) -> io::Result<Option<u8>> {
        self.send()?;
        Ok(self.fill(false)?.then(|| self.input[self.at]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn replies_go_out_when_flushed_and_input_comes_in_blocks() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut gdb = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let mut conn = Conn::new(listener.accept().unwrap().0);
        conn.on_session_start().unwrap();

        assert_eq!(conn.peek().unwrap(), None);
        Write::write_all(&mut gdb, b"$g#67").unwrap();
        assert_eq!(ConnectionExt::read(&mut conn).unwrap(), b'$');
        // The rest arrived with the first byte.
        assert!(conn.has_input());
        assert_eq!(conn.peek().unwrap(), Some(b'g'));
        for want in b"g#67" {
            assert_eq!(ConnectionExt::read(&mut conn).unwrap(), *want);
        }
        assert!(!conn.has_input());

        Connection::write(&mut conn, b'+').unwrap();
        Connection::write_all(&mut conn, b"$OK#9a").unwrap();
        Connection::flush(&mut conn).unwrap();
        let mut got = [0u8; 7];
        Read::read_exact(&mut gdb, &mut got).unwrap();
        assert_eq!(&got, b"+$OK#9a");

        // An unflushed byte goes out before the stub waits for gdb.
        Connection::write(&mut conn, b'+').unwrap();
        Write::write_all(&mut gdb, b"x").unwrap();
        assert_eq!(ConnectionExt::read(&mut conn).unwrap(), b'x');
        Read::read_exact(&mut gdb, &mut got[..1]).unwrap();
        assert_eq!(got[0], b'+');

        drop(gdb);
        let err = ConnectionExt::read(&mut conn).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        assert_eq!(
            conn.peek().unwrap_err().kind(),
            io::ErrorKind::UnexpectedEof
        );
    }
}
