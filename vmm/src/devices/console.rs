//! The console device: output a buffer per VM exit (`CONSOLE_PORT` gets the
//! guest-physical address of a `ConsoleWrite` descriptor) and input a buffer
//! per VM exit (`CONSOLE_IN_PORT` gets the address of a `ConsoleRead`
//! descriptor; the VMM stores up to `cap` bytes of its standard input and the
//! count in `result`).
//!
//! Input is read by a thread started on the guest's first input request, so a
//! guest that never reads leaves the VMM's standard input alone. The thread
//! hands chunks over a bounded channel: a guest that reads slowly holds back
//! the reading instead of making the VMM buffer all of its input.

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::sync::mpsc::{Receiver, TryRecvError, sync_channel};

use abi::device::{CONSOLE_HELD_MAX, CONSOLE_READ_EMPTY, CONSOLE_READ_EOF};
use abi::layout::phys;
use vm_memory::{Bytes, GuestAddress, GuestMemoryBackend};

use crate::memory::{self, GuestMem};

/// Bytes the input thread reads at a time.
const INPUT_CHUNK: usize = 64 << 10;
/// Chunks the input thread may read ahead of the guest.
const INPUT_AHEAD: usize = 4;

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

    /// Writes the buffer described by the `ConsoleWrite` at `desc_addr` to
    /// `out`. Output errors are ignored (a closed pipe must not stop the
    /// guest; `out` decides what to do with them). Fails if the descriptor or
    /// the buffer is outside guest RAM.
    pub fn write(
        &mut self,
        mem: &GuestMem,
        desc_addr: u64,
        out: &mut dyn Write,
    ) -> Result<(), BadDescriptor> {
        let bytes = described_bytes(mem, desc_addr, u64::MAX)?;
        let _ = out.write_all(&bytes);
        let _ = out.flush();
        Ok(())
    }

    /// Writes to `out` the output the kernel holds back (the `ConsoleWrite`
    /// whose address it left at `abi::layout::phys::CONSOLE_HELD`), for a
    /// run the VMM stops itself. Writes nothing when the kernel left no
    /// address, holds nothing, or describes more than `CONSOLE_HELD_MAX`
    /// bytes or bytes outside guest RAM (a kernel gone wrong).
    pub fn write_held(&self, mem: &GuestMem, out: &mut dyn Write) {
        let Some([desc]) = memory::read_u64s::<1>(mem, phys::CONSOLE_HELD) else {
            return;
        };
        if desc == 0 {
            return;
        }
        if let Ok(bytes) = described_bytes(mem, desc, CONSOLE_HELD_MAX)
            && !bytes.is_empty()
        {
            let _ = out.write_all(&bytes);
            let _ = out.flush();
        }
    }

    /// Serves the `ConsoleRead` at `desc_addr`: stores up to `cap` bytes of
    /// input at `addr` and their count in `result`, or `CONSOLE_READ_EMPTY`
    /// when none is available yet, or `CONSOLE_READ_EOF` at the end of input.
    /// Fails (storing nothing) if the descriptor or the buffer is outside
    /// guest RAM; no input is consumed then.
    pub fn read(&mut self, mem: &GuestMem, desc_addr: u64) -> Result<(), BadDescriptor> {
        let [addr, cap] = memory::read_u64s::<2>(mem, desc_addr).ok_or(BadDescriptor)?;
        let result_addr = desc_addr.checked_add(16).ok_or(BadDescriptor)?;
        if !mem.check_range(GuestAddress(result_addr), 8) {
            return Err(BadDescriptor);
        }
        self.fill();
        let n = self
            .pending
            .len()
            .min(usize::try_from(cap).unwrap_or(usize::MAX));
        let result = if n > 0 {
            if !mem.check_range(GuestAddress(addr), n) {
                return Err(BadDescriptor);
            }
            let (front, back) = self.pending.as_slices();
            let first = front.len().min(n);
            mem.write_slice(&front[..first], GuestAddress(addr))
                .map_err(|_| BadDescriptor)?;
            mem.write_slice(&back[..n - first], GuestAddress(addr + first as u64))
                .map_err(|_| BadDescriptor)?;
            self.pending.drain(..n);
            n as u64
        } else if self.eof {
            CONSOLE_READ_EOF
        } else {
            CONSOLE_READ_EMPTY
        };
        mem.write_obj(result, GuestAddress(result_addr))
            .map_err(|_| BadDescriptor)
    }

    /// Moves what the input thread has read into `pending` (starting the
    /// thread on first use).
    fn fill(&mut self) {
        if let Some(source) = self.source.take() {
            self.input = spawn_reader(source);
            if self.input.is_none() {
                self.eof = true;
            }
        }
        let Some(rx) = &self.input else {
            return;
        };
        while !self.eof && self.pending.len() < INPUT_CHUNK {
            match rx.try_recv() {
                Ok(chunk) => self.pending.extend(chunk),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => self.eof = true,
            }
        }
    }
}

/// The bytes the `ConsoleWrite` at `desc_addr` describes. Fails if the
/// descriptor or the bytes lie outside guest RAM, or there are more than
/// `max` of them.
fn described_bytes(mem: &GuestMem, desc_addr: u64, max: u64) -> Result<Vec<u8>, BadDescriptor> {
    let [addr, len] = memory::read_u64s::<2>(mem, desc_addr).ok_or(BadDescriptor)?;
    if len > max {
        return Err(BadDescriptor);
    }
    let len = usize::try_from(len).map_err(|_| BadDescriptor)?;
    memory::read_bytes(mem, addr, len).ok_or(BadDescriptor)
}

/// Starts the thread that moves `source` into a channel, chunk by chunk; the
/// channel closes at end of input or on an error.
fn spawn_reader(mut source: Box<dyn Read + Send>) -> Option<Receiver<Vec<u8>>> {
    let (tx, rx) = sync_channel(INPUT_AHEAD);
    std::thread::Builder::new()
        .name("console-input".into())
        .spawn(move || {
            let mut buf = vec![0u8; INPUT_CHUNK];
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

    #[test]
    fn held_output_is_written_once_the_kernel_names_it() {
        let mem = memory::create(1 << 20).unwrap();
        let c = Console::new(Box::new(std::io::empty()));
        let mut out = Vec::new();
        // No address left yet: nothing.
        c.write_held(&mem, &mut out);
        assert!(out.is_empty());
        mem.write_slice(b"child: exit(7)\n", GuestAddress(0x9000))
            .unwrap();
        mem.write_obj(0x8000u64, GuestAddress(phys::CONSOLE_HELD))
            .unwrap();
        mem.write_obj(0x9000u64, GuestAddress(0x8000)).unwrap();
        // Holding nothing: nothing.
        c.write_held(&mem, &mut out);
        assert!(out.is_empty());
        mem.write_obj(15u64, GuestAddress(0x8008)).unwrap();
        c.write_held(&mem, &mut out);
        assert_eq!(out, b"child: exit(7)\n");
        // More than the kernel can hold, or outside RAM: nothing more.
        mem.write_obj(CONSOLE_HELD_MAX + 1, GuestAddress(0x8008))
            .unwrap();
        c.write_held(&mem, &mut out);
        mem.write_obj(0xfff00u64, GuestAddress(0x8000)).unwrap();
        mem.write_obj(4096u64, GuestAddress(0x8008)).unwrap();
        c.write_held(&mem, &mut out);
        mem.write_obj(u64::MAX - 8, GuestAddress(phys::CONSOLE_HELD))
            .unwrap();
        c.write_held(&mem, &mut out);
        assert_eq!(out, b"child: exit(7)\n");
    }

    /// Serves a read of up to `cap` bytes at 0x6000 (descriptor at 0x200)
    /// until it is not empty; returns `result` and the bytes.
    fn read_until_not_empty(c: &mut Console, mem: &GuestMem, cap: u64) -> (u64, Vec<u8>) {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            mem.write_obj(0x6000u64, GuestAddress(0x200)).unwrap();
            mem.write_obj(cap, GuestAddress(0x208)).unwrap();
            c.read(mem, 0x200).unwrap();
            let result: u64 = mem.read_obj(GuestAddress(0x210)).unwrap();
            if result != CONSOLE_READ_EMPTY || Instant::now() > deadline {
                let n = if result == CONSOLE_READ_EOF {
                    0
                } else {
                    result as usize
                };
                return (result, memory::read_bytes(mem, 0x6000, n).unwrap());
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    #[test]
    fn input_in_buffers_then_eof() {
        let mem = memory::create(1 << 20).unwrap();
        let data: Vec<u8> = (0..200_000u32).map(|i| (i * 7) as u8).collect();
        let mut c = Console::new(Box::new(std::io::Cursor::new(data.clone())));
        let mut got = Vec::new();
        let mut requests = 0;
        loop {
            let (result, bytes) = read_until_not_empty(&mut c, &mem, 50_000);
            if result == CONSOLE_READ_EOF {
                break;
            }
            assert!(result > 0 && result <= 50_000, "{result}");
            got.extend(bytes);
            requests += 1;
        }
        assert_eq!(got, data);
        assert!(requests < 20, "{requests} requests for 200 KB");
        assert_eq!(read_until_not_empty(&mut c, &mem, 10).0, CONSOLE_READ_EOF);
    }

    #[test]
    fn bad_input_descriptors_consume_nothing() {
        let mem = memory::create(1 << 20).unwrap();
        let mut c = Console::new(Box::new(&b"abc"[..]));
        assert_eq!(c.read(&mem, (1 << 20) - 16), Err(BadDescriptor));
        // A buffer past the end of RAM.
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            mem.write_obj((1u64 << 20) - 1, GuestAddress(0x200))
                .unwrap();
            mem.write_obj(3u64, GuestAddress(0x208)).unwrap();
            c.fill();
            if c.pending.len() == 3 || Instant::now() > deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(c.read(&mem, 0x200), Err(BadDescriptor));
        assert_eq!(read_until_not_empty(&mut c, &mem, 2), (2, b"ab".to_vec()));
        assert_eq!(read_until_not_empty(&mut c, &mem, 2), (1, b"c".to_vec()));
        assert_eq!(read_until_not_empty(&mut c, &mem, 2).0, CONSOLE_READ_EOF);
    }
}
