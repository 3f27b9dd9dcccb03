//! Validation of user executables and their per-page load plan.
//!
//! [`parse`] checks the ELF64 header and the `PT_LOAD` program headers of a
//! static x86-64 executable against the user address space (Pintos
//! `load`/`validate_segment`, stricter); [`ElfImage::page_runs`] gives the
//! runs of pages the segments touch (the executable's regions) and
//! [`ElfImage::plan_page`] what one page must hold when it is first touched. Two segments may share a page (a read-only header
//! segment at 0x400000 and text at 0x400120, say): the page gets the bytes of
//! both and the union of their permissions.
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
    pub vaddr: u64,
    pub mem_size: u64,
    pub file_offset: u64,
    pub file_size: u64,
    pub writable: bool,
    pub executable: bool,
}

/// A validated executable: its entry point and its loadable segments, sorted
/// by address, non-empty, pairwise disjoint, inside the user address space.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ElfImage {
    pub entry: u64,
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

/// File bytes to copy into a page: `len` bytes from `file_offset` go to
/// `page_offset`; the rest of the page is zero.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PagePart {
    pub page_offset: u16,
    pub file_offset: u64,
    pub len: u16,
}

/// The file parts of one page, sorted by `page_offset` and disjoint: at most
/// one per segment, so a fixed array holds them (planning a page never
/// allocates).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PageParts {
    parts: [PagePart; MAX_LOAD_SEGMENTS],
    len: usize,
}

impl PageParts {
    /// The parts from a slice (at most [`MAX_LOAD_SEGMENTS`]; extra ones are dropped).
    pub fn from_slice(parts: &[PagePart]) -> PageParts {
        let mut p = PageParts::default();
        for &part in parts.iter().take(MAX_LOAD_SEGMENTS) {
            p.parts[p.len] = part;
            p.len += 1;
        }
        p
    }

    pub fn as_slice(&self) -> &[PagePart] {
        &self.parts[..self.len]
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// What one user page holds when it is first loaded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PagePlan {
    /// The page's address (page-aligned).
    pub va: u64,
    /// Whether any segment touching the page is writable.
    pub writable: bool,
    /// Whether any segment touching the page is executable.
    pub executable: bool,
    /// The file bytes of the page; empty for a page of zeros (`.bss`).
    pub parts: PageParts,
}

impl ElfImage {
    /// How many pages the segments touch (a page touched by two segments
    /// counts once).
    pub fn page_count(&self) -> u64 {
        self.page_runs()
            .map(|(start, end)| (end - start) / PAGE_SIZE)
            .sum()
    }

    /// The runs of consecutive pages the segments touch, as `(first page,
    /// end)` address pairs, sorted and disjoint: the executable's regions of
    /// the address space (pages between runs stay invalid).
    pub fn page_runs(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        let mut segments = self.segments.iter().peekable();
        core::iter::from_fn(move || {
            let first = segments.next()?;
            let start = page_down(first.vaddr);
            let mut end = page_up(first.vaddr.saturating_add(first.mem_size));
            // Sorted, disjoint segments: the next one joins the run when it
            // starts in the run's last page or right after it.
            while let Some(next) = segments.next_if(|s| page_down(s.vaddr) <= end) {
                end = end.max(page_up(next.vaddr.saturating_add(next.mem_size)));
            }
            Some((start, end))
        })
    }

    /// The load plan of the page at `va` (page-aligned), or `None` when no
    /// segment touches it.
    pub fn plan_page(&self, va: u64) -> Option<PagePlan> {
        let page_end = va.saturating_add(PAGE_SIZE);
        let mut plan = PagePlan {
            va,
            writable: false,
            executable: false,
            parts: PageParts::default(),
        };
        let mut touched = false;
        for segment in &self.segments {
            let end = segment.vaddr.saturating_add(segment.mem_size);
            if segment.vaddr >= page_end || end <= va {
                continue;
            }
            touched = true;
            plan.writable |= segment.writable;
            plan.executable |= segment.executable;
            let from = va.max(segment.vaddr);
            let to = page_end.min(segment.vaddr.saturating_add(segment.file_size));
            if from < to {
                // Segments are sorted by address, so parts come out sorted.
                plan.parts.parts[plan.parts.len] = PagePart {
                    page_offset: (from - va) as u16,
                    file_offset: segment.file_offset + (from - segment.vaddr),
                    len: (to - from) as u16,
                };
                plan.parts.len += 1;
            }
        }
        touched.then_some(plan)
    }
}

const fn page_down(addr: u64) -> u64 {
    addr & !(PAGE_SIZE - 1)
}

const fn page_up(addr: u64) -> u64 {
    page_down(addr.saturating_add(PAGE_SIZE - 1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    /// Every page's plan, in address order.
    fn page_plan(image: &ElfImage) -> Vec<PagePlan> {
        image
            .page_runs()
            .flat_map(|(start, end)| (start..end).step_by(PAGE_SIZE as usize))
            .map(|va| image.plan_page(va).expect("a page of a run is planned"))
            .collect()
    }

    /// A plan from its parts.
    fn plan(va: u64, writable: bool, executable: bool, parts: &[PagePart]) -> PagePlan {
        PagePlan {
            va,
            writable,
            executable,
            parts: PageParts::from_slice(parts),
        }
    }

    const PT_NOTE: u32 = 4;
    const PF_R: u32 = 4;

    /// One program header to write.
    #[derive(Clone, Copy)]
    struct Ph {
        kind: u32,
        flags: u32,
        offset: u64,
        vaddr: u64,
        filesz: u64,
        memsz: u64,
    }

    fn load(flags: u32, offset: u64, vaddr: u64, filesz: u64, memsz: u64) -> Ph {
        Ph {
            kind: PT_LOAD,
            flags,
            offset,
            vaddr,
            filesz,
            memsz,
        }
    }

    fn put(bytes: &mut [u8], offset: usize, value: &[u8]) {
        bytes[offset..offset + value.len()].copy_from_slice(value);
    }

    /// A well-formed executable: the ELF header, the program headers right
    /// after it, and the file long enough for every segment's file bytes
    /// (filled with a recognisable pattern).
    fn build(entry: u64, phdrs: &[Ph]) -> Vec<u8> {
        let table_end = EHDR_SIZE + phdrs.len() * PHDR_SIZE;
        let data_end = phdrs
            .iter()
            .filter(|ph| ph.kind == PT_LOAD)
            .map(|ph| (ph.offset + ph.filesz) as usize)
            .max()
            .unwrap_or(0);
        let mut bytes: Vec<u8> = (0..table_end.max(data_end))
            .map(|i| (i % 251) as u8)
            .collect();
        put(&mut bytes, 0, &ELF_MAGIC);
        bytes[4] = ELFCLASS64;
        bytes[5] = ELFDATA2LSB;
        bytes[6] = EV_CURRENT;
        put(&mut bytes, 7, &[0; 9]);
        put(&mut bytes, 16, &ET_EXEC.to_le_bytes());
        put(&mut bytes, 18, &EM_X86_64.to_le_bytes());
        put(&mut bytes, 20, &1u32.to_le_bytes());
        put(&mut bytes, 24, &entry.to_le_bytes());
        put(&mut bytes, 32, &(EHDR_SIZE as u64).to_le_bytes());
        put(&mut bytes, 40, &0u64.to_le_bytes());
        put(&mut bytes, 48, &0u32.to_le_bytes());
        put(&mut bytes, 52, &(EHDR_SIZE as u16).to_le_bytes());
        put(&mut bytes, 54, &(PHDR_SIZE as u16).to_le_bytes());
        put(&mut bytes, 56, &(phdrs.len() as u16).to_le_bytes());
        put(&mut bytes, 58, &[0; 6]);
        for (index, ph) in phdrs.iter().enumerate() {
            let at = EHDR_SIZE + index * PHDR_SIZE;
            put(&mut bytes, at, &ph.kind.to_le_bytes());
            put(&mut bytes, at + 4, &ph.flags.to_le_bytes());
            put(&mut bytes, at + 8, &ph.offset.to_le_bytes());
            put(&mut bytes, at + 16, &ph.vaddr.to_le_bytes());
            put(&mut bytes, at + 24, &ph.vaddr.to_le_bytes());
            put(&mut bytes, at + 32, &ph.filesz.to_le_bytes());
            put(&mut bytes, at + 40, &ph.memsz.to_le_bytes());
            put(&mut bytes, at + 48, &PAGE_SIZE.to_le_bytes());
        }
        bytes
    }

    fn parse_bytes(bytes: &[u8]) -> Result<ElfImage, ElfError> {
        parse(bytes.len() as u64, &mut |offset, buf| {
            let start = offset as usize;
            match bytes.get(start..start + buf.len()) {
                Some(src) => {
                    buf.copy_from_slice(src);
                    true
                }
                None => false,
            }
        })
    }

    /// A typical program: a read-only header segment sharing its page with
    /// the text, read-only data, then data with .bss.
    fn typical() -> Vec<u8> {
        build(
            0x400120,
            &[
                load(PF_R, 0, 0x400000, 0x120, 0x120),
                load(PF_R | PF_X, 0x120, 0x400120, 0x1ee0, 0x1ee0),
                load(PF_R, 0x2000, 0x402000, 0x300, 0x300),
                load(PF_R | PF_W, 0x3000, 0x403000, 0x80, 0x2100),
            ],
        )
    }

    #[test]
    fn parses_a_typical_program() {
        let image = parse_bytes(&typical()).unwrap();
        assert_eq!(image.entry, 0x400120);
        assert_eq!(image.segments.len(), 4);
        assert_eq!(
            image.segments[1],
            Segment {
                vaddr: 0x400120,
                mem_size: 0x1ee0,
                file_offset: 0x120,
                file_size: 0x1ee0,
                writable: false,
                executable: true,
            }
        );
        assert_eq!(
            image.segments[3],
            Segment {
                vaddr: 0x403000,
                mem_size: 0x2100,
                file_offset: 0x3000,
                file_size: 0x80,
                writable: true,
                executable: false,
            }
        );
        assert_eq!(image.page_count(), 6);
    }

    #[test]
    fn plans_the_pages_of_a_typical_program() {
        let image = parse_bytes(&typical()).unwrap();
        let plans = page_plan(&image);
        assert_eq!(plans.len() as u64, image.page_count());
        assert_eq!(
            plans,
            vec![
                // The header and the start of the text share the first page.
                plan(
                    0x400000,
                    false,
                    true,
                    &[
                        PagePart {
                            page_offset: 0,
                            file_offset: 0,
                            len: 0x120
                        },
                        PagePart {
                            page_offset: 0x120,
                            file_offset: 0x120,
                            len: 0xee0
                        },
                    ]
                ),
                plan(
                    0x401000,
                    false,
                    true,
                    &[PagePart {
                        page_offset: 0,
                        file_offset: 0x1000,
                        len: 0x1000
                    }]
                ),
                plan(
                    0x402000,
                    false,
                    false,
                    &[PagePart {
                        page_offset: 0,
                        file_offset: 0x2000,
                        len: 0x300
                    }]
                ),
                plan(
                    0x403000,
                    true,
                    false,
                    &[PagePart {
                        page_offset: 0,
                        file_offset: 0x3000,
                        len: 0x80
                    }]
                ),
                // .bss only: all zeros.
                plan(0x404000, true, false, &[]),
                plan(0x405000, true, false, &[]),
            ]
        );
    }

    #[test]
    fn a_shared_page_gets_the_union_of_permissions_and_both_contents() {
        // Text ends mid-page and writable data starts right after it, listed
        // out of order in the file.
        let bytes = build(
            0x400100,
            &[
                load(PF_R | PF_W, 0x900, 0x400900, 0x100, 0x800),
                load(PF_R | PF_X, 0x100, 0x400100, 0x700, 0x700),
            ],
        );
        let image = parse_bytes(&bytes).unwrap();
        assert_eq!(image.segments[0].vaddr, 0x400100, "sorted by address");
        assert_eq!(image.page_count(), 2);
        assert_eq!(
            page_plan(&image),
            vec![
                plan(
                    0x400000,
                    true,
                    true,
                    &[
                        PagePart {
                            page_offset: 0x100,
                            file_offset: 0x100,
                            len: 0x700
                        },
                        PagePart {
                            page_offset: 0x900,
                            file_offset: 0x900,
                            len: 0x100
                        },
                    ]
                ),
                plan(0x401000, true, false, &[]),
            ]
        );
    }

    #[test]
    fn a_later_read_only_segment_does_not_drop_write_permission() {
        let bytes = build(
            0x400800,
            &[
                load(PF_R | PF_W, 0, 0x400000, 0x10, 0x800),
                load(PF_R | PF_X, 0x800, 0x400800, 0x10, 0x10),
                load(PF_R, 0x900, 0x400900, 0x10, 0x10),
            ],
        );
        let plans = page_plan(&parse_bytes(&bytes).unwrap());
        assert_eq!(plans.len(), 1);
        assert!(plans[0].writable);
        assert!(plans[0].executable);
        assert_eq!(plans[0].parts.as_slice().len(), 3);
        assert_eq!(plans[0].va, 0x400000);
    }

    #[test]
    fn a_segment_may_end_exactly_at_the_user_limit_and_touch_the_stack_area() {
        let below_stack = USER_STACK - USER_STACK_MAX;
        let bytes = build(
            0x400000,
            &[
                load(PF_R | PF_X, 0x1000, 0x400000, 0x10, 0x10),
                load(PF_R | PF_W, 0, below_stack - 0x1000, 0, 0x1000),
                load(PF_R | PF_W, 0, USER_STACK, 0, 0x1000),
                load(PF_R, 0, USER_LIMIT - 0x2000, 0, 0x2000),
            ],
        );
        let image = parse_bytes(&bytes).unwrap();
        assert_eq!(image.segments.len(), 4);
        assert_eq!(image.page_count(), 5);
        assert_eq!(page_plan(&image).last().unwrap().va, USER_LIMIT - 0x1000);
    }

    #[test]
    fn other_program_headers_are_ignored() {
        let bytes = build(
            0x400000,
            &[
                Ph {
                    kind: PT_NOTE,
                    flags: 0,
                    offset: u64::MAX,
                    vaddr: 0,
                    filesz: u64::MAX,
                    memsz: 0,
                },
                load(PF_R | PF_X, 0, 0x400000, 0x100, 0x100),
            ],
        );
        assert_eq!(parse_bytes(&bytes).unwrap().segments.len(), 1);
    }

    fn text_only() -> Vec<u8> {
        build(0x400000, &[load(PF_R | PF_X, 0, 0x400000, 0x100, 0x100)])
    }

    #[test]
    fn truncated_files() {
        let bytes = typical();
        assert_eq!(parse_bytes(&bytes[..0]), Err(ElfError::Truncated));
        assert_eq!(parse_bytes(&bytes[..63]), Err(ElfError::Truncated));
        // Cut inside the program-header table.
        assert_eq!(parse_bytes(&bytes[..100]), Err(ElfError::Truncated));
        // Cut inside the last segment's file bytes.
        assert_eq!(
            parse_bytes(&bytes[..bytes.len() - 1]),
            Err(ElfError::Truncated)
        );
        // A reader that fails.
        assert_eq!(
            parse(bytes.len() as u64, &mut |_, _| false),
            Err(ElfError::Truncated)
        );
        // A table offset far past the end.
        let mut bytes = text_only();
        put(&mut bytes, 32, &0x1_0000u64.to_le_bytes());
        assert_eq!(parse_bytes(&bytes), Err(ElfError::Truncated));
    }

    #[test]
    fn bad_identification() {
        let mut bytes = text_only();
        bytes[1] = b'e';
        assert_eq!(parse_bytes(&bytes), Err(ElfError::BadMagic));

        let mut bytes = text_only();
        bytes[4] = 1;
        assert_eq!(parse_bytes(&bytes), Err(ElfError::NotElf64));

        let mut bytes = text_only();
        bytes[5] = 2;
        assert_eq!(parse_bytes(&bytes), Err(ElfError::NotLittleEndian));

        let mut bytes = text_only();
        bytes[6] = 0;
        assert_eq!(parse_bytes(&bytes), Err(ElfError::BadVersion));

        let mut bytes = text_only();
        put(&mut bytes, 20, &2u32.to_le_bytes());
        assert_eq!(parse_bytes(&bytes), Err(ElfError::BadVersion));
    }

    #[test]
    fn not_a_fixed_address_x86_64_executable() {
        for e_type in [0u16, 1, 3, 4] {
            let mut bytes = text_only();
            put(&mut bytes, 16, &e_type.to_le_bytes());
            assert_eq!(parse_bytes(&bytes), Err(ElfError::NotExecutable));
        }
        for machine in [3u16, 40, 183] {
            let mut bytes = text_only();
            put(&mut bytes, 18, &machine.to_le_bytes());
            assert_eq!(parse_bytes(&bytes), Err(ElfError::WrongMachine));
        }
    }

    #[test]
    fn bad_program_header_tables() {
        let mut bytes = text_only();
        put(&mut bytes, 54, &32u16.to_le_bytes());
        assert_eq!(parse_bytes(&bytes), Err(ElfError::BadPhdrs));

        let mut bytes = text_only();
        put(&mut bytes, 32, &(u64::MAX - 8).to_le_bytes());
        assert_eq!(parse_bytes(&bytes), Err(ElfError::BadPhdrs));
    }

    #[test]
    fn too_many_segments() {
        let mut bytes = text_only();
        put(&mut bytes, 56, &(MAX_PHDRS + 1).to_le_bytes());
        assert_eq!(parse_bytes(&bytes), Err(ElfError::TooManySegments));

        let sixteen: Vec<Ph> = (0..16)
            .map(|i| load(PF_R | PF_X, 0, 0x400000 + i * 0x1000, 0x10, 0x10))
            .collect();
        assert_eq!(
            parse_bytes(&build(0x400000, &sixteen))
                .unwrap()
                .segments
                .len(),
            16
        );
        let mut seventeen = sixteen.clone();
        seventeen.push(load(PF_R, 0, 0x500000, 0x10, 0x10));
        assert_eq!(
            parse_bytes(&build(0x400000, &seventeen)),
            Err(ElfError::TooManySegments)
        );
        // Up to 64 headers are fine when most are not PT_LOAD.
        let mut many = sixteen;
        many.extend((0..48).map(|_| Ph {
            kind: PT_NOTE,
            flags: 0,
            offset: 0,
            vaddr: 0,
            filesz: 0,
            memsz: 0,
        }));
        assert_eq!(
            parse_bytes(&build(0x400000, &many)).unwrap().segments.len(),
            16
        );
    }

    fn one_segment(ph: Ph) -> Result<ElfImage, ElfError> {
        parse_bytes(&build(ph.vaddr, &[ph]))
    }

    #[test]
    fn bad_segments() {
        let rx = PF_R | PF_X;
        // Empty.
        assert_eq!(
            one_segment(load(rx, 0, 0x400000, 0, 0)),
            Err(ElfError::BadSegment)
        );
        // More file bytes than memory bytes.
        assert_eq!(
            one_segment(load(rx, 0, 0x400000, 0x200, 0x100)),
            Err(ElfError::BadSegment)
        );
        // Offset and address in different places of their pages.
        assert_eq!(
            one_segment(load(rx, 0x10, 0x400000, 0x100, 0x100)),
            Err(ElfError::BadSegment)
        );
        // A file range that wraps.
        let mut bytes = build(0x400000, &[load(rx, 0, 0x400000, 0x1000, 0x1000)]);
        let offset = !(PAGE_SIZE - 1);
        put(&mut bytes, EHDR_SIZE + 8, &offset.to_le_bytes());
        assert_eq!(parse_bytes(&bytes), Err(ElfError::BadSegment));
    }

    #[test]
    fn segments_in_kernel_space_or_page_zero() {
        let rx = PF_R | PF_X;
        assert_eq!(
            one_segment(load(rx, 0, USER_LIMIT - 0x1000, 0, 0x1001)),
            Err(ElfError::KernelSpace)
        );
        assert_eq!(
            one_segment(load(rx, 0, USER_LIMIT, 0, 0x1000)),
            Err(ElfError::KernelSpace)
        );
        assert_eq!(
            one_segment(load(rx, 0, 0xffff_ffff_8020_0000, 0, 0x1000)),
            Err(ElfError::KernelSpace)
        );
        assert_eq!(
            one_segment(load(rx, 0, 0xffff_ffff_ffff_f000, 0, 0x2000)),
            Err(ElfError::KernelSpace)
        );
        assert_eq!(
            one_segment(load(rx, 0, 0, 0, 0x2000)),
            Err(ElfError::LowAddress)
        );
        assert_eq!(
            one_segment(load(rx, 0xfff, 0xfff, 1, 0x10)),
            Err(ElfError::LowAddress)
        );
        assert!(one_segment(load(rx, 0, 0x1000, 0x10, 0x10)).is_ok());
    }

    #[test]
    fn overlapping_segments() {
        let bytes = build(
            0x400000,
            &[
                load(PF_R | PF_X, 0, 0x400000, 0x800, 0x800),
                load(PF_R | PF_W, 0x7ff, 0x4007ff, 0x10, 0x10),
            ],
        );
        assert_eq!(parse_bytes(&bytes), Err(ElfError::Overlap));
        // One segment inside another's .bss.
        let bytes = build(
            0x400000,
            &[
                load(PF_R | PF_X, 0, 0x400000, 0x100, 0x10_0000),
                load(PF_R | PF_W, 0x0, 0x450000, 0x10, 0x10),
            ],
        );
        assert_eq!(parse_bytes(&bytes), Err(ElfError::Overlap));
    }

    #[test]
    fn segments_over_the_stack_area() {
        let rw = PF_R | PF_W;
        let text = load(PF_R | PF_X, 0, 0x400000, 0x10, 0x10);
        for data in [
            load(rw, 0, USER_STACK - 0x1000, 0, 0x1000),
            load(rw, 0, USER_STACK - USER_STACK_MAX, 0, 0x10),
            load(rw, 0, USER_STACK - USER_STACK_MAX - 0x1000, 0, 0x1001),
            load(rw, 0xff8, USER_STACK - 8, 0, 0x10),
            load(rw, 0, 0x4000_0000, 0, 0x1000_0000),
        ] {
            assert_eq!(
                parse_bytes(&build(0x400000, &[text, data])),
                Err(ElfError::StackOverlap)
            );
        }
    }

    #[test]
    fn entry_outside_executable_segments() {
        let segments = [
            load(PF_R | PF_X, 0, 0x400000, 0x100, 0x100),
            load(PF_R | PF_W, 0x1000, 0x401000, 0x100, 0x100),
        ];
        for entry in [0, 0x3fffff, 0x400100, 0x401000, 0x401010] {
            assert_eq!(
                parse_bytes(&build(entry, &segments)),
                Err(ElfError::EntryOutside)
            );
        }
        assert!(parse_bytes(&build(0x4000ff, &segments)).is_ok());
    }

    #[test]
    fn no_loadable_segments() {
        let note = Ph {
            kind: PT_NOTE,
            flags: 0,
            offset: 0,
            vaddr: 0,
            filesz: 0,
            memsz: 0,
        };
        assert_eq!(
            parse_bytes(&build(0x400000, &[note])),
            Err(ElfError::NoSegments)
        );
        assert_eq!(
            parse_bytes(&build(0x400000, &[])),
            Err(ElfError::NoSegments)
        );
    }

    #[test]
    fn a_host_pie_executable_is_rejected() {
        // Host programs are position-independent (ET_DYN) on current
        // distributions; skip if this host has none.
        let Ok(bytes) = std::fs::read("/bin/true") else {
            return;
        };
        if bytes.get(16..18) == Some(&3u16.to_le_bytes()[..]) {
            assert_eq!(parse_bytes(&bytes), Err(ElfError::NotExecutable));
        }
    }
}
