//! UNINIT pages: what a page will be filled with on its first fault, as data
//! (printable, testable, copyable by fork), and `uninit_initialize`, which fills
//! the frame and turns the page into ANON or FILE.
use super::file::Mapping;
use super::page::{Anon, FilePage, Kind};
use crate::fs::File;
use crate::userprog::elf::PagePart;
use abi::layout::PAGE_SIZE;
use alloc::sync::Arc;
use alloc::vec::Vec;

/// The lazy initializer of a page.
#[derive(Debug, Clone)]
pub enum Initializer {
    /// Zero-filled anonymous memory (stack, bss); becomes ANON.
    Zero,
    /// A page of an executable's PT_LOAD segments: `parts` are copied from
    /// `file`, the rest is zero; becomes ANON (its origin is kept so an
    /// unmodified page can be dropped instead of swapped).
    Elf {
        file: Arc<File>,
        parts: Vec<PagePart>,
    },
    /// A page of a file mapping at `offset`, `read_bytes` from the file;
    /// becomes FILE.
    Mmap {
        mapping: Arc<Mapping>,
        offset: u64,
        read_bytes: u32,
    },
}

/// Why initialization failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadError;

impl Initializer {
    /// Whether the first fault reads a file (else it zero-fills).
    pub fn reads_file(&self) -> bool {
        match self {
            Initializer::Zero => false,
            Initializer::Elf { parts, .. } => !parts.is_empty(),
            Initializer::Mmap { read_bytes, .. } => *read_bytes > 0,
        }
    }

    /// Fills `frame` (the page's bytes, all of them; `zeroed`: they are all
    /// zero already) and returns the kind the page becomes
    /// (`uninit_initialize` → `anon_initializer` / `file_backed_initializer`).
    pub fn initialize(self, frame: &mut [u8], zeroed: bool) -> Result<Kind, ReadError> {
        debug_assert_eq!(frame.len(), PAGE_SIZE as usize);
        match self {
            Initializer::Zero => {
                // SAFETY: `frame` is the page being filled, exclusively ours.
                unsafe { crate::arch::cpu::zero_bytes(frame.as_mut_ptr(), frame.len()) };
                Ok(Kind::Anon(Anon {
                    slot: None,
                    origin: Some(Initializer::Zero),
                }))
            }
            Initializer::Elf { file, parts } => {
                fill_parts(frame, &parts, zeroed, |buf, off| {
                    file.read_at(buf, off).is_ok_and(|n| n == buf.len())
                })?;
                Ok(Kind::Anon(Anon {
                    slot: None,
                    origin: Some(Initializer::Elf { file, parts }),
                }))
            }
            Initializer::Mmap {
                mapping,
                offset,
                read_bytes,
            } => {
                let n = read_bytes as usize;
                if !zeroed {
                    frame[n..].fill(0);
                }
                if n > 0
                    && !mapping
                        .file
                        .read_at(&mut frame[..n], offset)
                        .is_ok_and(|got| got == n)
                {
                    return Err(ReadError);
                }
                Ok(Kind::File(FilePage {
                    mapping,
                    offset,
                    read_bytes,
                    dirty: false,
                }))
            }
        }
    }
}

/// Zeroes `frame` outside `parts` (unless `zeroed`: it is zero already) and
/// reads each part with `read(buf, file_offset)`.
pub fn fill_parts(
    frame: &mut [u8],
    parts: &[PagePart],
    zeroed: bool,
    mut read: impl FnMut(&mut [u8], u64) -> bool,
) -> Result<(), ReadError> {
    let mut cursor = 0usize;
    for p in parts {
        let (start, len) = (p.page_offset as usize, p.len as usize);
        if !zeroed {
            frame[cursor..start].fill(0);
        }
        if !read(&mut frame[start..start + len], p.file_offset) {
            return Err(ReadError);
        }
        cursor = start + len;
    }
    if !zeroed {
        frame[cursor..].fill(0);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_read_and_the_rest_zeroed() {
        let mut frame = alloc::vec![0xaau8; 4096];
        let parts = [
            PagePart {
                page_offset: 16,
                file_offset: 100,
                len: 4,
            },
            PagePart {
                page_offset: 0x120,
                file_offset: 200,
                len: 2,
            },
        ];
        let mut reads = Vec::new();
        fill_parts(&mut frame, &parts, false, |buf, off| {
            reads.push((off, buf.len()));
            buf.fill(7);
            true
        })
        .unwrap();
        assert_eq!(reads, [(100, 4), (200, 2)]);
        assert!(frame[..16].iter().all(|&b| b == 0));
        assert_eq!(&frame[16..20], &[7; 4]);
        assert!(frame[20..0x120].iter().all(|&b| b == 0));
        assert_eq!(&frame[0x120..0x122], &[7; 2]);
        assert!(frame[0x122..].iter().all(|&b| b == 0));
        assert_eq!(
            fill_parts(&mut frame, &parts, false, |_, _| false),
            Err(ReadError)
        );
        // A frame known to be zero is only read into.
        let mut zeroed = alloc::vec![0u8; 4096];
        fill_parts(&mut zeroed, &parts, true, |buf, _| {
            buf.fill(7);
            true
        })
        .unwrap();
        assert_eq!(zeroed.iter().filter(|&&b| b == 7).count(), 6);
    }

    #[test]
    fn zero_pages_become_anon() {
        let mut frame = alloc::vec![1u8; 4096];
        let kind = Initializer::Zero.initialize(&mut frame, false).unwrap();
        assert!(frame.iter().all(|&b| b == 0));
        assert!(matches!(
            kind,
            Kind::Anon(Anon {
                slot: None,
                origin: Some(Initializer::Zero)
            })
        ));
        assert!(!Initializer::Zero.reads_file());
    }
}
