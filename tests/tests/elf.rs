//! The loader against executables built byte by byte on the host and put into
//! the guest file system: a minimal valid program runs; malformed ones (bad
//! magic, wrong machine, truncated, a segment reaching kernel space or
//! overlapping another, an entry point outside the image) make the load fail
//! with `load: NAME: error loading executable` and `exit(-1)`, never a panic.

use std::fs;

use faultline_tests::{RunOpts, TempDir, expect};

const BASE: u64 = 0x40_0000;
/// mov eax, 1 (SYS_EXIT); mov edi, 7; syscall
const EXIT_7: [u8; 12] = [0xb8, 1, 0, 0, 0, 0xbf, 7, 0, 0, 0, 0x0f, 0x05];
const CODE_OFFSET: u64 = 0x100;

struct Segment {
    offset: u64,
    vaddr: u64,
    filesz: u64,
    memsz: u64,
    flags: u32,
}

/// An ELF64 executable for x86-64 with `segments` and `entry`, the exit-7
/// code at CODE_OFFSET.
fn elf(machine: u16, entry: u64, segments: &[Segment]) -> Vec<u8> {
    let mut f = vec![0u8; CODE_OFFSET as usize];
    f[..4].copy_from_slice(b"\x7fELF");
    f[4] = 2; // 64-bit
    f[5] = 1; // little-endian
    f[6] = 1; // version
    f[16..18].copy_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    f[18..20].copy_from_slice(&machine.to_le_bytes());
    f[20..24].copy_from_slice(&1u32.to_le_bytes());
    f[24..32].copy_from_slice(&entry.to_le_bytes());
    f[32..40].copy_from_slice(&64u64.to_le_bytes()); // e_phoff
    f[52..54].copy_from_slice(&64u16.to_le_bytes()); // e_ehsize
    f[54..56].copy_from_slice(&56u16.to_le_bytes()); // e_phentsize
    f[56..58].copy_from_slice(&(segments.len() as u16).to_le_bytes());
    for (i, s) in segments.iter().enumerate() {
        let p = 64 + 56 * i;
        f[p..p + 4].copy_from_slice(&1u32.to_le_bytes()); // PT_LOAD
        f[p + 4..p + 8].copy_from_slice(&s.flags.to_le_bytes());
        f[p + 8..p + 16].copy_from_slice(&s.offset.to_le_bytes());
        f[p + 16..p + 24].copy_from_slice(&s.vaddr.to_le_bytes());
        f[p + 24..p + 32].copy_from_slice(&s.vaddr.to_le_bytes());
        f[p + 32..p + 40].copy_from_slice(&s.filesz.to_le_bytes());
        f[p + 40..p + 48].copy_from_slice(&s.memsz.to_le_bytes());
        f[p + 48..p + 56].copy_from_slice(&0x1000u64.to_le_bytes());
    }
    f.extend_from_slice(&EXIT_7);
    f
}

fn text_segment() -> Segment {
    let len = CODE_OFFSET + EXIT_7.len() as u64;
    Segment {
        offset: 0,
        vaddr: BASE,
        filesz: len,
        memsz: len,
        flags: 5,
    }
}

/// Puts `bytes` into the guest as NAME and runs it as the initial program.
fn run_as(name: &str, bytes: &[u8], want: &[&str], status: i32) {
    let dir = TempDir::new(name);
    let path = dir.path().join(name);
    fs::write(&path, bytes).expect("write the test executable");
    let spec = format!("{}:{name}", path.display());
    expect(name, &RunOpts::new().put(&spec), want, status);
}

fn refused(name: &str, bytes: &[u8]) {
    let load = format!("load: {name}: error loading executable");
    let exit = format!("{name}: exit(-1)");
    run_as(name, bytes, &[&load, &exit], 255);
}

#[test]
fn a_minimal_hand_made_executable_runs() {
    run_as(
        "elf-ok",
        &elf(62, BASE + CODE_OFFSET, &[text_segment()]),
        &["elf-ok: exit(7)"],
        7,
    );
}

#[test]
fn bad_magic_is_refused() {
    let mut f = elf(62, BASE + CODE_OFFSET, &[text_segment()]);
    f[1] = b'X';
    refused("elf-magic", &f);
}

#[test]
fn wrong_machine_is_refused() {
    refused(
        "elf-machine",
        &elf(3, BASE + CODE_OFFSET, &[text_segment()]),
    );
}

#[test]
fn truncated_file_is_refused() {
    let f = elf(62, BASE + CODE_OFFSET, &[text_segment()]);
    refused("elf-truncated", &f[..100]);
}

#[test]
fn segment_reaching_kernel_space_is_refused() {
    let limit = 0x80_0400_0000u64;
    let high = Segment {
        offset: 0,
        vaddr: limit - 0x1000,
        filesz: 0,
        memsz: 0x2000,
        flags: 6,
    };
    refused(
        "elf-kernel",
        &elf(62, BASE + CODE_OFFSET, &[text_segment(), high]),
    );
}

#[test]
fn overlapping_segments_are_refused() {
    let over = Segment {
        offset: 0,
        vaddr: BASE + 0x80,
        filesz: 0x10,
        memsz: 0x10,
        flags: 6,
    };
    refused(
        "elf-overlap",
        &elf(62, BASE + CODE_OFFSET, &[text_segment(), over]),
    );
}

#[test]
fn entry_outside_the_image_is_refused() {
    refused("elf-entry", &elf(62, BASE + 0x10_0000, &[text_segment()]));
}
