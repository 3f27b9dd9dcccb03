//! The console: output a buffer at a time through the VMM's console port (one
//! VM exit per 4 KiB of kernel messages; user output and exit lines are held
//! back in the 4 KiB buffer and go out together at the next flush, at most a
//! timer tick later, so a burst of short lines costs one exit; a `write` too
//! long for the buffer goes out at once, one exit per `CONSOLE_UNIT` bytes),
//! input a buffer at a time from the VMM's stdin (one VM exit per request of
//! up to 4 KiB), and [`kprint!`]/[`kprintln!`] for kernel messages.
//!
//! What is held back is described at all times by a `ConsoleWrite` whose
//! address the kernel leaves at `abi::layout::phys::CONSOLE_HELD`
//! ([`publish`]): a VMM that stops the run itself (a timeout, a signal)
//! writes it out, so nothing accepted is lost.
//!
//! Both directions hand the VMM the guest-physical address of a descriptor in
//! kernel memory (`abi::device`); a full fence on each side of the port access
//! makes the compiler write the descriptor before it and read the VMM's
//! answer after it.
use crate::arch::{cpu, mmio};
use crate::mm::virt_to_phys;
use crate::sync::SpinLock;
use abi::device::{
    CONSOLE_IN_PORT, CONSOLE_PORT, CONSOLE_READ_EMPTY, CONSOLE_READ_EOF, ConsoleRead, ConsoleWrite,
};
use core::fmt;
use core::sync::atomic::{Ordering, compiler_fence};

/// Bytes per console-output exit.
const BUF_SIZE: usize = 4096;
/// Most bytes one console-input request moves.
pub const INPUT_CHUNK: usize = 4096;

struct Console {
    /// What the next console-port exit hands the VMM.
    desc: ConsoleWrite,
    /// What `buf` holds back, for a VMM that stops the run (see the module doc).
    held: ConsoleWrite,
    buf: [u8; BUF_SIZE],
    len: usize,
}

static CONSOLE: SpinLock<Console> = SpinLock::new(Console {
    desc: ConsoleWrite { addr: 0, len: 0 },
    held: ConsoleWrite { addr: 0, len: 0 },
    buf: [0; BUF_SIZE],
    len: 0,
});

/// Leaves the address of the held-back output's descriptor where the VMM
/// looks for it (`abi::layout::phys::CONSOLE_HELD`). Called once at boot.
pub fn publish() {
    let c = CONSOLE.lock();
    crate::mm::boot::publish_console_held(virt_to_phys(&c.held as *const ConsoleWrite as u64));
}

impl Console {
    fn flush(&mut self) {
        if self.len == 0 {
            return;
        }
        let (addr, len) = (self.buf.as_ptr() as u64, self.len);
        // Emptied before the exit (`send` fences): a VMM that stops the run
        // right after it must not write these bytes a second time.
        self.held.len = 0;
        self.send(addr, len);
        self.len = 0;
    }

    /// Hands the VMM the `len` bytes at kernel address `addr` (physically
    /// contiguous: the kernel image, the direct map or the heap), one exit.
    fn send(&mut self, addr: u64, len: usize) {
        self.desc = ConsoleWrite {
            addr: virt_to_phys(addr),
            len: len as u64,
        };
        mmio::mb();
        cpu::outl(
            CONSOLE_PORT,
            virt_to_phys(&self.desc as *const ConsoleWrite as u64) as u32,
        );
        mmio::mb();
    }

    fn push(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            if self.len == BUF_SIZE {
                self.flush();
            }
            let n = bytes.len().min(BUF_SIZE - self.len);
            self.buf[self.len..self.len + n].copy_from_slice(&bytes[..n]);
            self.len += n;
            bytes = &bytes[n..];
            // The bytes before the length that covers them (the VMM reads
            // the descriptor only while the vCPU is stopped).
            compiler_fence(Ordering::SeqCst);
            self.held = ConsoleWrite {
                addr: virt_to_phys(self.buf.as_ptr() as u64),
                len: self.len as u64,
            };
        }
    }
}

impl fmt::Write for Console {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.push(s.as_bytes());
        Ok(())
    }
}

/// Writes `bytes` to the console as one unit (no other output interleaves,
/// whatever the length: the console stays locked until all of it is out).
pub fn write(bytes: &[u8]) {
    let mut c = CONSOLE.lock();
    c.push(bytes);
    c.flush();
}

/// Writes `bytes`, a user `write`, as one unit (no other output inside it):
/// held back in the console's buffer when it fits there (after sending what
/// the buffer held, if the two do not fit together), like an exit line; else
/// sent at once with one exit, whatever its length, after what is held.
/// `bytes` must be kernel memory the VMM can read in one piece (the kernel
/// image, the direct map or the heap, whose pages are physically
/// contiguous).
pub fn write_user(bytes: &[u8]) {
    let mut c = CONSOLE.lock();
    if c.len + bytes.len() > BUF_SIZE {
        c.flush();
    }
    if bytes.len() <= BUF_SIZE {
        c.push(bytes);
    } else {
        c.send(bytes.as_ptr() as u64, bytes.len());
    }
}

/// Writes formatted text as one unit, but leaves it in the console's
/// buffer until the next flush: kernel output, console input, the idle
/// loop, a timer tick or power-off, whichever comes first (so at most a
/// tick, 10 ms, later): for lines that come in bursts, a process's `exit`
/// line, so that a thousand exits do not cost a thousand exits to the VMM.
/// Output keeps its order: everything written later goes out after it.
pub fn write_fmt_deferred(args: fmt::Arguments) {
    let mut c = CONSOLE.lock();
    let _ = fmt::Write::write_fmt(&mut *c, args);
}

/// Sends what the console's buffer holds (see [`write_fmt_deferred`]).
pub fn flush() {
    CONSOLE.lock().flush();
}

/// [`flush`] for the panic handler: does nothing when the console is held
/// (the panic interrupted a console write), rather than deadlock.
pub fn flush_if_free() {
    if let Some(mut c) = CONSOLE.try_lock() {
        c.flush();
    }
}

/// Writes formatted text as one unit.
pub fn write_fmt(args: fmt::Arguments) {
    let mut c = CONSOLE.lock();
    let _ = fmt::Write::write_fmt(&mut *c, args);
    c.flush();
}

/// Result of one console-input request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Input {
    /// This many bytes (at least one) were stored.
    Bytes(usize),
    /// No input is available yet.
    Empty,
    /// The input has ended.
    Eof,
}

/// The descriptor and buffer the VMM fills.
struct InputBuf {
    desc: ConsoleRead,
    buf: [u8; INPUT_CHUNK],
}

static INPUT: SpinLock<InputBuf> = SpinLock::new(InputBuf {
    desc: ConsoleRead {
        addr: 0,
        cap: 0,
        result: 0,
    },
    buf: [0; INPUT_CHUNK],
});

/// Moves the console input that is available, up to `out.len()` bytes (at
/// most [`INPUT_CHUNK`]), into `out` with one request to the VMM; never
/// blocks. What the console holds back goes out first (a prompt before the
/// wait for its answer). An answer the VMM should not give (more than
/// asked) is taken as the end of input.
pub fn read(out: &mut [u8]) -> Input {
    let cap = out.len().min(INPUT_CHUNK);
    if cap == 0 {
        return Input::Empty;
    }
    flush();
    let mut guard = INPUT.lock();
    let i = &mut *guard;
    i.desc = ConsoleRead {
        addr: virt_to_phys(i.buf.as_ptr() as u64),
        cap: cap as u64,
        result: CONSOLE_READ_EOF,
    };
    mmio::mb();
    cpu::outl(
        CONSOLE_IN_PORT,
        virt_to_phys(&i.desc as *const ConsoleRead as u64) as u32,
    );
    mmio::mb();
    match i.desc.result {
        CONSOLE_READ_EMPTY => Input::Empty,
        n if n <= cap as u64 => {
            let n = n as usize;
            out[..n].copy_from_slice(&i.buf[..n]);
            Input::Bytes(n)
        }
        _ => Input::Eof,
    }
}

/// Writes directly to the serial port (for panics: no locks, no heap).
pub fn serial_write(bytes: &[u8]) {
    for &b in bytes {
        while cpu::inb(abi::device::SERIAL_PORT + 5) & 0x20 == 0 {}
        cpu::outb(abi::device::SERIAL_PORT, b);
    }
}

/// Prints to the console.
#[macro_export]
macro_rules! kprint {
    ($($arg:tt)*) => { $crate::console::write_fmt(format_args!($($arg)*)) };
}

/// Prints a line to the console.
#[macro_export]
macro_rules! kprintln {
    ($($arg:tt)*) => { $crate::console::write_fmt(format_args!("{}\n", format_args!($($arg)*))) };
}
