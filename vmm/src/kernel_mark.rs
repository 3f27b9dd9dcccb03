//! Checks that `--kernel` names a faultline kernel of this contract version
//! before anything boots: an x86-64 ELF64 file carrying the faultline note
//! (`abi::marker`) with the right magic and ABI version. A user program, an
//! unrelated ELF, an empty or non-ELF file is refused with a message that
//! says which. The note is found through the program headers (`PT_NOTE`), so
//! the check needs only the start of the file up to its segments
//! ([`crate::loader::read_loadable`]); with the whole file the section
//! table is searched too.

use abi::marker::{NOTE_NAME, NOTE_TYPE, check_descriptor};
use anyhow::{Result, bail};
use object::elf::EM_X86_64;
use object::elf::FileHeader64;
use object::read::elf::{FileHeader, NoteIterator, ProgramHeader, SectionHeader};
use object::{Endianness, FileKind};

/// Checks the kernel image `elf`. Fails with what is wrong (no path: the
/// caller names the file).
pub fn check(elf: &[u8]) -> Result<()> {
    if elf.is_empty() {
        bail!("empty file, not a faultline kernel");
    }
    match FileKind::parse(elf) {
        Ok(FileKind::Elf64) => {}
        Ok(FileKind::Elf32) => bail!("a 32-bit ELF file, not a faultline kernel"),
        _ => bail!("not an ELF file, so not a faultline kernel"),
    }
    let malformed = || anyhow::anyhow!("a malformed ELF64 file, not a faultline kernel");
    let header = FileHeader64::<Endianness>::parse(elf).map_err(|_| malformed())?;
    let endian = header.endian().map_err(|_| malformed())?;
    if header.e_machine(endian) != EM_X86_64 {
        bail!("an ELF file for another machine, not a faultline kernel");
    }
    let mut found = None;
    for ph in header
        .program_headers(endian, elf)
        .map_err(|_| malformed())?
    {
        if let Ok(Some(notes)) = ph.notes(endian, elf) {
            found = found.or(find_note(notes, endian));
        }
    }
    if found.is_none()
        && let Ok(sections) = header.sections(endian, elf)
    {
        for sh in sections.iter() {
            if let Ok(Some(notes)) = sh.notes(endian, elf) {
                found = found.or(find_note(notes, endian));
            }
        }
    }
    let Some(desc) = found else {
        bail!("not a faultline kernel (no faultline note; a user program or another ELF file?)");
    };
    check_descriptor(desc).map_err(|e| anyhow::anyhow!("{e}"))
}

/// The descriptor of the first faultline note among `notes`.
fn find_note<'d>(
    mut notes: NoteIterator<'d, object::elf::FileHeader64<Endianness>>,
    endian: Endianness,
) -> Option<&'d [u8]> {
    while let Ok(Some(note)) = notes.next() {
        if note.name() == NOTE_NAME && note.n_type(endian) == NOTE_TYPE {
            return Some(note.desc());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use abi::marker::{ABI_VERSION, KERNEL_NOTE};

    /// A minimal x86-64 ELF64 with one PT_NOTE holding `note` (if any).
    fn elf(machine: u16, note: Option<&[u8]>) -> Vec<u8> {
        let mut f = vec![0u8; 64];
        f[..7].copy_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1, 1]);
        f[0x10..0x12].copy_from_slice(&2u16.to_le_bytes());
        f[0x12..0x14].copy_from_slice(&machine.to_le_bytes());
        f[0x14..0x18].copy_from_slice(&1u32.to_le_bytes());
        f[0x20..0x28].copy_from_slice(&64u64.to_le_bytes());
        f[0x34..0x36].copy_from_slice(&64u16.to_le_bytes());
        f[0x36..0x38].copy_from_slice(&56u16.to_le_bytes());
        let Some(note) = note else {
            return f;
        };
        f[0x38..0x3a].copy_from_slice(&1u16.to_le_bytes());
        let mut ph = vec![0u8; 56];
        ph[0..4].copy_from_slice(&4u32.to_le_bytes()); // PT_NOTE
        ph[8..16].copy_from_slice(&120u64.to_le_bytes());
        ph[32..40].copy_from_slice(&(note.len() as u64).to_le_bytes());
        ph[40..48].copy_from_slice(&(note.len() as u64).to_le_bytes());
        ph[48..56].copy_from_slice(&4u64.to_le_bytes());
        f.extend(ph);
        f.extend(note);
        f
    }

    fn note_bytes(version: u32) -> Vec<u8> {
        let n = KERNEL_NOTE;
        let mut b = Vec::new();
        b.extend(n.namesz.to_le_bytes());
        b.extend(n.descsz.to_le_bytes());
        b.extend(n.note_type.to_le_bytes());
        b.extend(n.name);
        b.extend(n.magic);
        b.extend(version.to_le_bytes());
        b.extend(n.reserved.to_le_bytes());
        b
    }

    fn err(bytes: &[u8]) -> String {
        check(bytes).unwrap_err().to_string()
    }

    #[test]
    fn a_marked_kernel_passes() {
        check(&elf(62, Some(&note_bytes(ABI_VERSION)))).unwrap();
    }

    #[test]
    fn everything_else_is_refused_with_a_reason() {
        assert!(err(b"").contains("empty file"));
        assert!(err(b"#!/bin/sh\necho hi\n").contains("not an ELF file"));
        assert!(err(b"\x7fELF").contains("not an ELF file"));
        assert!(err(&elf(62, None)).contains("no faultline note"));
        assert!(err(&elf(3, Some(&note_bytes(ABI_VERSION)))).contains("another machine"));
        let old = err(&elf(62, Some(&note_bytes(ABI_VERSION + 7))));
        assert!(
            old.contains(&format!("ABI version {}", ABI_VERSION + 7)),
            "{old}"
        );
        let mut other = note_bytes(ABI_VERSION);
        other[8] = 9; // another note type
        assert!(err(&elf(62, Some(&other))).contains("no faultline note"));
        let mut magic = note_bytes(ABI_VERSION);
        magic[24] = b'X';
        assert!(err(&elf(62, Some(&magic))).contains("malformed"));
    }
}
