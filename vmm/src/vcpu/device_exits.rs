//! The exits that reach devices: port I/O (exit, console, marker, panic,
//! serial and debugger ports) and MMIO (the virtio-mmio register windows of
//! the block devices).

use std::sync::PoisonError;

use abi::debug::DEBUG_PORT;
use abi::device::{
    CONSOLE_IN_PORT, CONSOLE_PORT, EXIT_PORT, MARKER_PORT, PANIC_PORT, SERIAL_PORT,
    VIRTIO_MMIO_BASE, VIRTIO_MMIO_SIZE,
};

use super::{DebugEvent, Machine, Next, Stop};
use crate::devices::exit::GuestExit;
use crate::devices::panic;
use crate::devices::serial;
use crate::stats::ExitKind;
use crate::virtio::block::Disk;
use crate::virtio::mmio::WriteEffect;

impl<'a> Machine<'a> {
    pub(super) fn io_out(&mut self, port: u16, data: &[u8]) -> Next {
        let word = <[u8; 4]>::try_from(data).ok().map(u32::from_le_bytes);
        match (port, word) {
            (DEBUG_PORT, Some(abi::debug::READY)) if self.debug => {
                self.stats.count(ExitKind::OtherPortOut);
                Next::Debug(DebugEvent::Ready)
            }
            (DEBUG_PORT, _) => {
                self.stats.count(ExitKind::OtherPortOut);
                Next::Continue
            }
            (EXIT_PORT, Some(v)) => {
                self.stats.count(ExitKind::ExitPort);
                Next::Stop(Stop::Exit(GuestExit::decode(v)))
            }
            (CONSOLE_PORT, Some(addr)) => {
                self.stats.count(ExitKind::ConsoleOut);
                self.serial.flush(self.out.as_mut());
                if self
                    .console
                    .write(self.mem, u64::from(addr), self.out.as_mut())
                    .is_err()
                {
                    self.stats.bad_descriptors += 1;
                }
                Next::Continue
            }
            (CONSOLE_IN_PORT, Some(addr)) => {
                self.stats.count(ExitKind::ConsoleIn);
                if self.console.read(self.mem, u64::from(addr)).is_err() {
                    self.stats.bad_descriptors += 1;
                }
                Next::Continue
            }
            (MARKER_PORT, Some(value)) => {
                self.stats.count(ExitKind::MarkerPort);
                let at = self.started.map(|t| t.elapsed()).unwrap_or_default();
                self.stats.markers.push((value, at));
                Next::Continue
            }
            (PANIC_PORT, Some(addr)) => {
                self.stats.count(ExitKind::PanicPort);
                self.serial.flush(self.out.as_mut());
                let _ = self.out.flush();
                match panic::read_report(self.mem, u64::from(addr)) {
                    Some(report) => {
                        crate::diag!("{}", panic::format_report(&report, self.symbols.get()))
                    }
                    None => self.stats.bad_descriptors += 1,
                }
                Next::Continue
            }
            (p, _) if (SERIAL_PORT..SERIAL_PORT + serial::PORTS).contains(&p) => {
                self.stats.count(ExitKind::Serial);
                if let Some(&b) = data.first() {
                    self.serial.write(p - SERIAL_PORT, b, self.out.as_mut());
                }
                Next::Continue
            }
            _ => {
                self.stats.count(ExitKind::OtherPortOut);
                if port != 0x80 {
                    self.stats.unknown_port(port);
                }
                Next::Continue
            }
        }
    }

    pub(super) fn io_in(&mut self, port: u16, data: &mut [u8]) {
        match port {
            p if (SERIAL_PORT..SERIAL_PORT + serial::PORTS).contains(&p) => {
                self.stats.count(ExitKind::Serial);
                data.fill(0);
                if let Some(b) = data.first_mut() {
                    *b = self.serial.read(p - SERIAL_PORT);
                }
            }
            _ => {
                self.stats.count(ExitKind::OtherPortIn);
                self.stats.unknown_port(port);
                data.fill(0xff);
            }
        }
    }

    /// The disk whose register window holds `addr`, its index and the offset in it.
    pub(super) fn disk_at(&self, addr: u64) -> Option<(&'a Disk, u64)> {
        let index = usize::try_from(addr.checked_sub(VIRTIO_MMIO_BASE)? / VIRTIO_MMIO_SIZE).ok()?;
        let disk = self.disks.get(index)?;
        Some((disk, addr - disk.mmio_base))
    }

    pub(super) fn mmio_read(&mut self, addr: u64, data: &mut [u8]) {
        match self.disk_at(addr) {
            Some((disk, offset)) => {
                disk.device
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .transport
                    .read(offset, data);
                self.stats.count(ExitKind::VirtioMmioRead);
            }
            None => {
                data.fill(0xff);
                self.stats.count(ExitKind::OtherMmio);
                self.stats.unknown_mmio(addr);
            }
        }
    }

    pub(super) fn mmio_write(&mut self, addr: u64, data: &[u8]) {
        match self.disk_at(addr) {
            Some((disk, offset)) => {
                let effect = disk
                    .device
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .transport
                    .write(offset, data);
                match effect {
                    WriteEffect::Notify => disk.serve_now(self.mem, true),
                    WriteEffect::Activated => disk.serve_now(self.mem, false),
                    _ => {}
                }
                self.stats.count(ExitKind::VirtioMmioWrite);
            }
            None => {
                self.stats.count(ExitKind::OtherMmio);
                self.stats.unknown_mmio(addr);
            }
        }
    }
}
