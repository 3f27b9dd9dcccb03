//! The panic-report port: the kernel hands over the guest-physical address of a
//! `PanicReport` (faulting rip and frame-pointer return addresses), which the VMM
//! symbolizes with the kernel's symbol table and prints to stderr.

use std::mem::{offset_of, size_of};

use abi::device::{PANIC_FRAMES_MAX, PanicReport};

use crate::memory::{self, GuestMem};
use crate::symbols::Symbols;

/// A report read from guest memory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// The faulting or panicking instruction.
    pub rip: u64,
    /// Return addresses from the frame-pointer chain, innermost first.
    pub frames: Vec<u64>,
}

/// Reads the `PanicReport` at `addr`, or `None` if it is not inside RAM.
pub fn read_report(mem: &GuestMem, addr: u64) -> Option<Report> {
    let words = memory::read_u64s::<{ size_of::<PanicReport>() / 8 }>(mem, addr)?;
    let rip = words[offset_of!(PanicReport, rip) / 8];
    let n = (words[offset_of!(PanicReport, n_frames) / 8] as usize).min(PANIC_FRAMES_MAX);
    let first = offset_of!(PanicReport, frames) / 8;
    Some(Report {
        rip,
        frames: words[first..first + n].to_vec(),
    })
}

/// The backtrace text: a header, then `  #i 0xADDR symbol+0xOFF` per frame, the
/// panicking rip first.
pub fn format_report(report: &Report, symbols: &Symbols) -> String {
    let mut s = String::from("faultline: kernel backtrace:\n");
    s += &format!("  #0 {}\n", symbols.describe(report.rip));
    for (i, &addr) in report.frames.iter().enumerate() {
        s += &format!("  #{} {}\n", i + 1, symbols.describe_return(addr));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use vm_memory::{Bytes, GuestAddress};

    #[test]
    fn reads_and_clamps() {
        let mem = memory::create(1 << 20).unwrap();
        let base = 0x8000u64;
        mem.write_obj(0xffff_ffff_8020_0010u64, GuestAddress(base))
            .unwrap();
        mem.write_obj(2u64, GuestAddress(base + 8)).unwrap();
        mem.write_obj(0x1111u64, GuestAddress(base + 16)).unwrap();
        mem.write_obj(0x2222u64, GuestAddress(base + 24)).unwrap();
        let r = read_report(&mem, base).unwrap();
        assert_eq!(
            r,
            Report {
                rip: 0xffff_ffff_8020_0010,
                frames: vec![0x1111, 0x2222]
            }
        );
        let text = format_report(&r, &Symbols::default());
        assert_eq!(
            text,
            "faultline: kernel backtrace:\n  #0 0xffffffff80200010\n  #1 0x1111\n  #2 0x2222\n"
        );
        mem.write_obj(1000u64, GuestAddress(base + 8)).unwrap();
        assert_eq!(
            read_report(&mem, base).unwrap().frames.len(),
            PANIC_FRAMES_MAX
        );
        assert!(read_report(&mem, (1 << 20) - 16).is_none());
    }
}
