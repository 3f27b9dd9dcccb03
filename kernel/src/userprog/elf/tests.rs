//! Host tests of executable validation and the page plan.

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
