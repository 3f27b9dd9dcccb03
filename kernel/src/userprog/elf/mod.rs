//! Validation of user executables and their per-page load plan.
//!
//! [`parse`] checks the ELF64 header and the `PT_LOAD` program headers of a
//! static x86-64 executable against the user address space (Pintos
//! `load`/`validate_segment`, stricter). `plan.rs` turns the result into
//! runs of pages ([`ElfImage::page_runs`], the executable's regions) and
//! what one page must hold when it is first touched
//! ([`ElfImage::plan_page`]). Two segments may share a page (a read-only
//! header segment at 0x400000 and text at 0x400120, say): the page gets the
//! bytes of both and the union of their permissions.
//!
//! Pure logic over a `read_at` callback, unit-tested on the host.

use alloc::vec::Vec;

use abi::layout::{PAGE_SIZE, USER_LIMIT, USER_STACK, USER_STACK_MAX};

/// Most program headers of any type accepted in one executable.
pub const MAX_PHDRS: u16 = 64;
/// Most `PT_LOAD` segments accepted in one executable.
pub const MAX_LOAD_SEGMENTS: usize = 16;

const EHDR_SIZE: usize = 64;
const PHDR_SIZE: usize = 56;
const ELF_MAGIC: [u8; 4] = [0x7f, b'E', b'L', b'F'];
const ELFCLASS64: u8 = 2;
const ELFDATA2LSB: u8 = 1;
const EV_CURRENT: u8 = 1;
const ET_EXEC: u16 = 2;
const EM_X86_64: u16 = 62;
const PT_LOAD: u32 = 1;
const PF_X: u32 = 1;
const PF_W: u32 = 2;
/// Lowest address a segment may start at: page 0 stays unmapped.
const LOWEST_USER_ADDRESS: u64 = PAGE_SIZE;

/// One `PT_LOAD` segment: `file_size` bytes from `file_offset` at `vaddr`,
/// then zeros up to `mem_size`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    /// The user address the segment starts at.
    pub vaddr: u64,
    /// Its size in memory (at least `file_size`).
    pub mem_size: u64,
    /// Where its bytes start in the file.
    pub file_offset: u64,
    /// How many bytes come from the file.
    pub file_size: u64,
    /// Mapped writable (`PF_W`).
    pub writable: bool,
    /// Mapped executable (`PF_X`); otherwise no-execute.
    pub executable: bool,
}

/// A validated executable: its entry point and its loadable segments, sorted
/// by address, non-empty, pairwise disjoint, inside the user address space.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ElfImage {
    /// The user address execution starts at.
    pub entry: u64,
    /// The `PT_LOAD` segments, sorted by address.
    pub segments: Vec<Segment>,
}

/// Why an executable was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ElfError {
    /// The file ends before a header or a segment's bytes, or reading failed.
    Truncated,
    /// The file does not start with `\x7fELF`.
    BadMagic,
    /// Not a 64-bit ELF file.
    NotElf64,
    /// Not little-endian.
    NotLittleEndian,
    /// An ELF version other than 1.
    BadVersion,
    /// Not a fixed-address executable (`e_type != ET_EXEC`: PIE, shared
    /// object, relocatable or core file).
    NotExecutable,
    /// Not for x86-64.
    WrongMachine,
    /// The program-header table is malformed (entry size, or its range wraps).
    BadPhdrs,
    /// More than [`MAX_PHDRS`] program headers or [`MAX_LOAD_SEGMENTS`] `PT_LOAD` ones.
    TooManySegments,
    /// A segment is inconsistent: empty, more file bytes than memory bytes,
    /// file offset and address not congruent modulo the page size, or a file
    /// range that wraps.
    BadSegment,
    /// A segment reaches [`USER_LIMIT`] or wraps around the address space.
    KernelSpace,
    /// A segment starts in page 0.
    LowAddress,
    /// Two segments share bytes.
    Overlap,
    /// A segment overlaps the stack area `[USER_STACK - USER_STACK_MAX, USER_STACK)`.
    StackOverlap,
    /// The entry point is not inside an executable segment.
    EntryOutside,
    /// There is no `PT_LOAD` segment.
    NoSegments,
}

/// Reads and validates an executable of `file_len` bytes.
///
/// `read_at(offset, buf)` must fill `buf` with the file's bytes at `offset`
/// and return false when it cannot; that is reported as
/// [`ElfError::Truncated`]. Program headers other than `PT_LOAD` are ignored.
pub fn parse(
    file_len: u64,
    read_at: &mut dyn FnMut(u64, &mut [u8]) -> bool,
) -> Result<ElfImage, ElfError> {
    let mut raw = [0u8; EHDR_SIZE];
    read_exact(file_len, read_at, 0, &mut raw)?;
    let header = Header::decode(&raw)?;

    let table_len = u64::from(header.phnum) * PHDR_SIZE as u64;
    let table_end = header
        .phoff
        .checked_add(table_len)
        .ok_or(ElfError::BadPhdrs)?;
    if table_end > file_len {
        return Err(ElfError::Truncated);
    }

    let mut segments = Vec::new();
    for index in 0..u64::from(header.phnum) {
        let mut raw = [0u8; PHDR_SIZE];
        read_exact(
            file_len,
            read_at,
            header.phoff + index * PHDR_SIZE as u64,
            &mut raw,
        )?;
        if let Some(segment) = decode_segment(&raw, file_len)? {
            if segments.len() == MAX_LOAD_SEGMENTS {
                return Err(ElfError::TooManySegments);
            }
            segments.push(segment);
        }
    }
    if segments.is_empty() {
        return Err(ElfError::NoSegments);
    }

    segments.sort_unstable_by_key(|segment| segment.vaddr);
    for pair in segments.windows(2) {
        // Ends cannot wrap: decode_segment checked them against USER_LIMIT.
        if pair[0].vaddr + pair[0].mem_size > pair[1].vaddr {
            return Err(ElfError::Overlap);
        }
    }
    let entry_ok = segments.iter().any(|segment| {
        segment.executable
            && header.entry >= segment.vaddr
            && header.entry - segment.vaddr < segment.mem_size
    });
    if !entry_ok {
        return Err(ElfError::EntryOutside);
    }
    Ok(ElfImage {
        entry: header.entry,
        segments,
    })
}

/// Fills `buf` from `offset`, checking the range against the file length.
fn read_exact(
    file_len: u64,
    read_at: &mut dyn FnMut(u64, &mut [u8]) -> bool,
    offset: u64,
    buf: &mut [u8],
) -> Result<(), ElfError> {
    let end = offset
        .checked_add(buf.len() as u64)
        .ok_or(ElfError::Truncated)?;
    if end > file_len || !read_at(offset, buf) {
        return Err(ElfError::Truncated);
    }
    Ok(())
}

/// The fields of the ELF header that matter here.
struct Header {
    entry: u64,
    phoff: u64,
    phnum: u16,
}

impl Header {
    fn decode(raw: &[u8; EHDR_SIZE]) -> Result<Header, ElfError> {
        if raw[0..4] != ELF_MAGIC {
            return Err(ElfError::BadMagic);
        }
        if raw[4] != ELFCLASS64 {
            return Err(ElfError::NotElf64);
        }
        if raw[5] != ELFDATA2LSB {
            return Err(ElfError::NotLittleEndian);
        }
        if raw[6] != EV_CURRENT || le_u32(raw, 20) != u32::from(EV_CURRENT) {
            return Err(ElfError::BadVersion);
        }
        if le_u16(raw, 16) != ET_EXEC {
            return Err(ElfError::NotExecutable);
        }
        if le_u16(raw, 18) != EM_X86_64 {
            return Err(ElfError::WrongMachine);
        }
        let phnum = le_u16(raw, 56);
        if phnum == 0 {
            return Err(ElfError::NoSegments);
        }
        if phnum > MAX_PHDRS {
            return Err(ElfError::TooManySegments);
        }
        if usize::from(le_u16(raw, 54)) != PHDR_SIZE {
            return Err(ElfError::BadPhdrs);
        }
        Ok(Header {
            entry: le_u64(raw, 24),
            phoff: le_u64(raw, 32),
            phnum,
        })
    }
}

/// Validates one program header; `None` for a header other than `PT_LOAD`.
fn decode_segment(raw: &[u8; PHDR_SIZE], file_len: u64) -> Result<Option<Segment>, ElfError> {
    if le_u32(raw, 0) != PT_LOAD {
        return Ok(None);
    }
    let flags = le_u32(raw, 4);
    let segment = Segment {
        file_offset: le_u64(raw, 8),
        vaddr: le_u64(raw, 16),
        file_size: le_u64(raw, 32),
        mem_size: le_u64(raw, 40),
        writable: flags & PF_W != 0,
        executable: flags & PF_X != 0,
    };
    if segment.mem_size == 0
        || segment.file_size > segment.mem_size
        || segment.file_offset % PAGE_SIZE != segment.vaddr % PAGE_SIZE
    {
        return Err(ElfError::BadSegment);
    }
    if segment.vaddr < LOWEST_USER_ADDRESS {
        return Err(ElfError::LowAddress);
    }
    let end = segment
        .vaddr
        .checked_add(segment.mem_size)
        .ok_or(ElfError::KernelSpace)?;
    if end > USER_LIMIT {
        return Err(ElfError::KernelSpace);
    }
    if segment.vaddr < USER_STACK && end > USER_STACK - USER_STACK_MAX {
        return Err(ElfError::StackOverlap);
    }
    let file_end = segment
        .file_offset
        .checked_add(segment.file_size)
        .ok_or(ElfError::BadSegment)?;
    if file_end > file_len {
        return Err(ElfError::Truncated);
    }
    Ok(Some(segment))
}

fn le_u16(raw: &[u8], offset: usize) -> u16 {
    u16::from_le_bytes([raw[offset], raw[offset + 1]])
}

fn le_u32(raw: &[u8], offset: usize) -> u32 {
    let mut bytes = [0u8; 4];
    bytes.copy_from_slice(&raw[offset..offset + 4]);
    u32::from_le_bytes(bytes)
}

fn le_u64(raw: &[u8], offset: usize) -> u64 {
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&raw[offset..offset + 8]);
    u64::from_le_bytes(bytes)
}

mod plan;
#[cfg(test)]
mod tests;

pub use plan::{PagePart, PageParts, PagePlan};
