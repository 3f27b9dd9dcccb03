//! A minimal 16550 UART at `SERIAL_PORT` (0x3f8..0x3ff) for early boot and
//! panics: transmitted bytes go to the VMM's output, the line status always
//! says "transmitter empty", and nothing is ever received.

use std::io::Write;

/// Register offsets.
const THR: u16 = 0;
const IER: u16 = 1;
const LCR: u16 = 3;
const MCR: u16 = 4;
const LSR: u16 = 5;
const SCR: u16 = 7;
/// LCR: divisor latch access.
const LCR_DLAB: u8 = 0x80;
/// LSR: transmit holding register empty | transmitter empty.
const LSR_IDLE: u8 = 0x60;
/// Ports the UART occupies.
pub const PORTS: u16 = 8;

/// UART state.
#[derive(Debug, Default)]
pub struct Serial {
    ier: u8,
    lcr: u8,
    mcr: u8,
    scr: u8,
    line: Vec<u8>,
}

impl Serial {
    /// Reads register `offset`.
    pub fn read(&self, offset: u16) -> u8 {
        match offset {
            IER if self.lcr & LCR_DLAB == 0 => self.ier,
            LCR => self.lcr,
            MCR => self.mcr,
            LSR => LSR_IDLE,
            SCR => self.scr,
            _ => 0,
        }
    }

    /// Writes register `offset`; transmitted bytes are written to `out` a line at a time.
    pub fn write(&mut self, offset: u16, value: u8, out: &mut dyn Write) {
        match offset {
            THR if self.lcr & LCR_DLAB == 0 => {
                self.line.push(value);
                if value == b'\n' {
                    self.flush(out);
                }
            }
            IER if self.lcr & LCR_DLAB == 0 => self.ier = value & 0xf,
            LCR => self.lcr = value,
            MCR => self.mcr = value,
            SCR => self.scr = value,
            _ => {}
        }
    }

    /// Writes out a partial line.
    pub fn flush(&mut self, out: &mut dyn Write) {
        if !self.line.is_empty() {
            let _ = out.write_all(&self.line);
            let _ = out.flush();
            self.line.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transmits_lines_and_reports_idle() {
        let mut s = Serial::default();
        let mut out = Vec::new();
        assert_eq!(s.read(LSR), LSR_IDLE);
        for &b in b"hi\nyo" {
            s.write(THR, b, &mut out);
        }
        assert_eq!(out, b"hi\n");
        s.flush(&mut out);
        assert_eq!(out, b"hi\nyo");
        // Divisor latch writes are not data.
        s.write(LCR, LCR_DLAB | 3, &mut out);
        s.write(THR, 1, &mut out);
        s.write(LCR, 3, &mut out);
        s.flush(&mut out);
        assert_eq!(out, b"hi\nyo");
        assert_eq!(s.read(LCR), 3);
        s.write(SCR, 0x5a, &mut out);
        assert_eq!(s.read(SCR), 0x5a);
        assert_eq!(s.read(THR), 0);
    }
}
