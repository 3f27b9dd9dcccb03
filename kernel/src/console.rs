//! The console: output a buffer at a time through the VMM's console port (one
//! VM exit per buffer), input a byte at a time from the VMM's stdin, and
//! [`kprint!`]/[`kprintln!`] for kernel messages.
use crate::arch::cpu;
use crate::mm::virt_to_phys;
use crate::sync::SpinLock;
use abi::device::{CONSOLE_EMPTY, CONSOLE_EOF, CONSOLE_IN_PORT, CONSOLE_PORT, ConsoleWrite};
use core::fmt;

const BUF_SIZE: usize = 4096;

struct Console {
    desc: ConsoleWrite,
    buf: [u8; BUF_SIZE],
    len: usize,
}

static CONSOLE: SpinLock<Console> = SpinLock::new(Console {
    desc: ConsoleWrite { addr: 0, len: 0 },
    buf: [0; BUF_SIZE],
    len: 0,
});

impl Console {
    fn flush(&mut self) {
        if self.len == 0 {
            return;
        }
        self.desc = ConsoleWrite {
            addr: virt_to_phys(self.buf.as_ptr() as u64),
            len: self.len as u64,
        };
        cpu::outl(
            CONSOLE_PORT,
            virt_to_phys(&self.desc as *const ConsoleWrite as u64) as u32,
        );
        self.len = 0;
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
        }
    }
}

impl fmt::Write for Console {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.push(s.as_bytes());
        Ok(())
    }
}

/// Writes `bytes` to the console as one unit (no other output interleaves).
pub fn write(bytes: &[u8]) {
    let mut c = CONSOLE.lock();
    c.push(bytes);
    c.flush();
}

/// Writes formatted text as one unit.
pub fn write_fmt(args: fmt::Arguments) {
    let mut c = CONSOLE.lock();
    let _ = fmt::Write::write_fmt(&mut *c, args);
    c.flush();
}

/// Result of polling console input.
pub enum Input {
    Byte(u8),
    Empty,
    Eof,
}

/// Polls the next input byte.
pub fn read_byte() -> Input {
    match cpu::inl(CONSOLE_IN_PORT) {
        CONSOLE_EOF => Input::Eof,
        CONSOLE_EMPTY => Input::Empty,
        b => Input::Byte(b as u8),
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
