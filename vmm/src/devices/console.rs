//! The console device: output a buffer per VM exit (`CONSOLE_PORT` gets the
//! guest-physical address of a `ConsoleWrite` descriptor) and byte-wise input
//! from the VMM's standard input (`CONSOLE_IN_PORT`).
//!
//! Input is read by a thread started on the guest's first input request, so a
//! guest that never reads leaves the VMM's standard input alone.

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::sync::mpsc::{Receiver, TryRecvError, channel};

use abi::device::{CONSOLE_EMPTY, CONSOLE_EOF};

use crate::memory::{self, GuestMem};

/// The guest handed a descriptor or buffer outside its RAM.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadDescriptor;

/// Console state.
pub struct Console {
    source: Option<Box<dyn Read + Send>>,
    input: Option<Receiver<Vec<u8>>>,
    pending: VecDeque<u8>,
    eof: bool,
}

impl Console {
    /// A console whose input comes from `source` (normally standard input).
    pub fn new(source: Box<dyn Read + Send>) -> Console {
        Console {
            source: Some(source),
            input: None,
            pending: VecDeque::new(),
            eof: false,
        }
    }

    /// Writes the buffer described by the `ConsoleWrite` at `desc_addr` to `out`.
    pub fn write(
        &mut self,
        mem: &GuestMem,
        desc_addr: u64,
        out: &mut dyn Write,
    ) -> Result<(), BadDescriptor> {
        let [addr, len] = memory::read_u64s::<2>(mem, desc_addr).ok_or(BadDescriptor)?;
        let len = usize::try_from(len).map_err(|_| BadDescriptor)?;
        let bytes = memory::read_bytes(mem, addr, len).ok_or(BadDescriptor)?;
        // Output errors (a closed pipe) must not stop the guest.
        let _ = out.write_all(&bytes);
        let _ = out.flush();
        Ok(())
    }

    /// The next input byte, [`CONSOLE_EOF`] or [`CONSOLE_EMPTY`].
    pub fn read(&mut self) -> u32 {
        if let Some(source) = self.source.take() {
            self.input = spawn_reader(source);
            if self.input.is_none() {
                self.eof = true;
            }
        }
        if self.pending.is_empty()
            && !self.eof
            && let Some(rx) = &self.input
        {
            match rx.try_recv() {
                Ok(chunk) => self.pending.extend(chunk),
                Err(TryRecvError::Empty) => {}
                Err(TryRecvError::Disconnected) => self.eof = true,
            }
        }
        match self.pending.pop_front() {
            Some(b) => u32::from(b),
            None if self.eof => CONSOLE_EOF,
            None => CONSOLE_EMPTY,
        }
    }
}

/// Starts the thread that moves `source` into a channel, chunk by chunk; the
/// channel closes at end of input or on an error.
fn spawn_reader(mut source: Box<dyn Read + Send>) -> Option<Receiver<Vec<u8>>> {
    let (tx, rx) = channel();
    std::thread::Builder::new()
        .name("console-input".into())
        .spawn(move || {
            let mut buf = [0u8; 4096];
            loop {
                match source.read(&mut buf) {
                    Ok(0) => return,
                    Ok(n) => {
                        if tx.send(buf[..n].to_vec()).is_err() {
                            return;
                        }
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(_) => return,
                }
            }
        })
        .ok()?;
    Some(rx)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};
    use vm_memory::{Bytes, GuestAddress};

    #[test]
    fn output_is_checked_against_ram() {
        let mem = memory::create(1 << 20).unwrap();
        mem.write_slice(b"hello", GuestAddress(0x5000)).unwrap();
        mem.write_obj(0x5000u64, GuestAddress(0x100)).unwrap();
        mem.write_obj(5u64, GuestAddress(0x108)).unwrap();
        let mut c = Console::new(Box::new(std::io::empty()));
        let mut out = Vec::new();
        c.write(&mem, 0x100, &mut out).unwrap();
        assert_eq!(out, b"hello");
        mem.write_obj(u64::MAX, GuestAddress(0x108)).unwrap();
        assert_eq!(c.write(&mem, 0x100, &mut out), Err(BadDescriptor));
        mem.write_obj(0xff000u64, GuestAddress(0x100)).unwrap();
        mem.write_obj(0x2000u64, GuestAddress(0x108)).unwrap();
        assert_eq!(c.write(&mem, 0x100, &mut out), Err(BadDescriptor));
        assert_eq!(c.write(&mem, (1 << 20) - 8, &mut out), Err(BadDescriptor));
        assert_eq!(out, b"hello");
    }

    fn read_until_not_empty(c: &mut Console) -> u32 {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let v = c.read();
            if v != CONSOLE_EMPTY || Instant::now() > deadline {
                return v;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    #[test]
    fn input_then_eof() {
        let mut c = Console::new(Box::new(&b"ab"[..]));
        assert_eq!(read_until_not_empty(&mut c), u32::from(b'a'));
        assert_eq!(read_until_not_empty(&mut c), u32::from(b'b'));
        assert_eq!(read_until_not_empty(&mut c), CONSOLE_EOF);
        assert_eq!(c.read(), CONSOLE_EOF);
    }
}
