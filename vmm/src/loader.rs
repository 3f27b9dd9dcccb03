//! Loading the kernel ELF into guest RAM: `linux-loader` copies the segments
//! to their physical addresses; the extent of the image (including segments
//! with no file bytes, such as a separate `.bss` segment, which `linux-loader`
//! skips when it computes its `kernel_end`) is taken from the program headers.

use std::io::{Cursor, Read};
use std::os::unix::fs::FileExt;
use std::path::Path;

use abi::layout::{KERNEL_VIRT_BASE, phys};
use anyhow::{Context, Result, anyhow, bail};
use linux_loader::loader::{Elf, KernelLoader};

use crate::memory::GuestMem;

const PT_LOAD: u32 = 1;
const PT_NOTE: u32 = 4;

/// A loaded kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoadedKernel {
    /// Entry point (virtual).
    pub entry: u64,
    /// Lowest guest-physical address of any PT_LOAD segment.
    pub phys_start: u64,
    /// First guest-physical byte after every PT_LOAD segment (memory size, not file size).
    pub phys_end: u64,
}

/// The physical extent `[start, end)` of the PT_LOAD segments of an ELF64 image.
pub fn load_extent(elf: &[u8]) -> Result<(u64, u64)> {
    let u16_at =
        |o: usize| -> Option<u16> { Some(u16::from_le_bytes(elf.get(o..o + 2)?.try_into().ok()?)) };
    let u32_at =
        |o: usize| -> Option<u32> { Some(u32::from_le_bytes(elf.get(o..o + 4)?.try_into().ok()?)) };
    let u64_at =
        |o: usize| -> Option<u64> { Some(u64::from_le_bytes(elf.get(o..o + 8)?.try_into().ok()?)) };
    if elf.get(..5) != Some(&[0x7f, b'E', b'L', b'F', 2][..]) {
        bail!("not an ELF64 file");
    }
    let phoff = u64_at(0x20).context("truncated ELF header")?;
    let phentsize = u16_at(0x36).context("truncated ELF header")? as usize;
    let phnum = u16_at(0x38).context("truncated ELF header")? as usize;
    if phentsize < 56 {
        bail!("bad program header size {phentsize}");
    }
    let mut extent: Option<(u64, u64)> = None;
    for i in 0..phnum {
        let base = usize::try_from(phoff)
            .ok()
            .and_then(|p| p.checked_add(i * phentsize))
            .context("bad program header offset")?;
        let p_type = u32_at(base).context("truncated program headers")?;
        if p_type != PT_LOAD {
            continue;
        }
        let paddr = u64_at(base + 0x18).context("truncated program headers")?;
        let memsz = u64_at(base + 0x28).context("truncated program headers")?;
        if memsz == 0 {
            continue;
        }
        let end = paddr
            .checked_add(memsz)
            .with_context(|| format!("segment at {paddr:#x} wraps around"))?;
        extent = Some(match extent {
            None => (paddr, end),
            Some((s, e)) => (s.min(paddr), e.max(end)),
        });
    }
    extent.context("no loadable segments")
}

/// Bytes read to find the program headers.
const HEAD: usize = 4096;

/// Reads what booting needs of the kernel ELF file at `path`: from its start
/// to the end of its last `PT_LOAD` or `PT_NOTE` segment in the file. The
/// debug information and symbol table after that are read only if symbols
/// are needed ([`crate::symbols::LazySymbols`]). A file that is not a
/// readable ELF64 gives its first bytes (for [`crate::kernel_mark::check`]
/// to say what it is). Fails only if the file cannot be read.
pub fn read_loadable(path: &Path) -> Result<Vec<u8>> {
    let mut file = std::fs::File::open(path).context("cannot read it")?;
    let mut head = Vec::with_capacity(HEAD);
    std::io::Read::by_ref(&mut file)
        .take(HEAD as u64)
        .read_to_end(&mut head)
        .context("cannot read it")?;
    let Some(end) = segments_end(&head) else {
        return Ok(head);
    };
    let len = file.metadata().context("cannot read it")?.len();
    let end = usize::try_from(end.min(len)).context("the kernel does not fit the host")?;
    if end > head.len() {
        head.resize(end, 0);
        file.read_exact_at(&mut head[HEAD..], HEAD as u64)
            .context("cannot read it")?;
    }
    Ok(head)
}

/// The end, in the file, of the last `PT_LOAD` or `PT_NOTE` segment of the
/// ELF64 image whose first bytes are `head` (`None` if the program headers
/// are not all in `head`).
fn segments_end(head: &[u8]) -> Option<u64> {
    let u16_at = |o: usize| Some(u16::from_le_bytes(head.get(o..o + 2)?.try_into().ok()?));
    let u32_at = |o: usize| Some(u32::from_le_bytes(head.get(o..o + 4)?.try_into().ok()?));
    let u64_at = |o: usize| Some(u64::from_le_bytes(head.get(o..o + 8)?.try_into().ok()?));
    if head.get(..5) != Some(&[0x7f, b'E', b'L', b'F', 2][..]) {
        return None;
    }
    let phoff = usize::try_from(u64_at(0x20)?).ok()?;
    let (phentsize, phnum) = (usize::from(u16_at(0x36)?), usize::from(u16_at(0x38)?));
    let mut end = u64::try_from(phoff.checked_add(phentsize.checked_mul(phnum)?)?).ok()?;
    for i in 0..phnum {
        let base = phoff + i * phentsize;
        if matches!(u32_at(base)?, PT_LOAD | PT_NOTE) {
            end = end.max(u64_at(base + 8)?.checked_add(u64_at(base + 0x20)?)?);
        }
    }
    Some(end)
}

/// Loads `elf` into `mem` (of `mem_size` bytes); `path` names it in errors.
pub fn load_kernel(mem: &GuestMem, mem_size: u64, elf: &[u8], path: &Path) -> Result<LoadedKernel> {
    let (phys_start, phys_end) =
        load_extent(elf).with_context(|| format!("the kernel {}", path.display()))?;
    if phys_start < phys::BOOT_PAGE_TABLES_END {
        bail!(
            "the kernel {} loads at {phys_start:#x}, over the VMM's boot data (below {:#x})",
            path.display(),
            phys::BOOT_PAGE_TABLES_END
        );
    }
    if phys_end > mem_size {
        bail!(
            "the kernel {} ends at {phys_end:#x}, beyond guest RAM ({mem_size:#x}); use a larger --mem",
            path.display()
        );
    }
    let loaded = Elf::load(mem, None, &mut Cursor::new(elf), None)
        .map_err(|e| anyhow!("loading the kernel {}: {e}", path.display()))?;
    let entry = loaded.kernel_load.0;
    let mapped =
        entry < (1 << 30) || (KERNEL_VIRT_BASE..KERNEL_VIRT_BASE + (1 << 30)).contains(&entry);
    if !mapped {
        bail!("the kernel entry point {entry:#x} is not mapped by the boot page tables");
    }
    Ok(LoadedKernel {
        entry,
        phys_start,
        phys_end: phys_end.max(loaded.kernel_end),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use vm_memory::{Bytes, GuestAddress};

    /// An ELF64 with the given (paddr, filesz, memsz) PT_LOAD segments plus a
    /// PT_NOTE, each segment's file bytes filled with 0xaa.
    fn elf(segments: &[(u64, u64, u64)], entry: u64) -> Vec<u8> {
        let phnum = segments.len() + 1;
        let data_off = 0x1000u64;
        let mut f = vec![0u8; 64];
        f[..7].copy_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1, 1]);
        f[0x10..0x12].copy_from_slice(&2u16.to_le_bytes());
        f[0x12..0x14].copy_from_slice(&0x3eu16.to_le_bytes());
        f[0x14..0x18].copy_from_slice(&1u32.to_le_bytes());
        f[0x18..0x20].copy_from_slice(&entry.to_le_bytes());
        f[0x20..0x28].copy_from_slice(&64u64.to_le_bytes());
        f[0x34..0x36].copy_from_slice(&64u16.to_le_bytes());
        f[0x36..0x38].copy_from_slice(&56u16.to_le_bytes());
        f[0x38..0x3a].copy_from_slice(&(phnum as u16).to_le_bytes());
        let mut off = data_off;
        for &(paddr, filesz, memsz) in segments {
            let mut ph = vec![0u8; 56];
            ph[0..4].copy_from_slice(&PT_LOAD.to_le_bytes());
            ph[4..8].copy_from_slice(&7u32.to_le_bytes());
            ph[8..16].copy_from_slice(&off.to_le_bytes());
            ph[16..24].copy_from_slice(&KERNEL_VIRT_BASE.wrapping_add(paddr).to_le_bytes());
            ph[24..32].copy_from_slice(&paddr.to_le_bytes());
            ph[32..40].copy_from_slice(&filesz.to_le_bytes());
            ph[40..48].copy_from_slice(&memsz.to_le_bytes());
            f.extend(ph);
            off += filesz.next_multiple_of(0x1000);
        }
        let mut note = vec![0u8; 56];
        note[0..4].copy_from_slice(&4u32.to_le_bytes());
        f.extend(note);
        f.resize(data_off as usize, 0);
        for &(_, filesz, _) in segments {
            let start = f.len();
            f.resize(start + filesz.next_multiple_of(0x1000) as usize, 0);
            f[start..start + filesz as usize].fill(0xaa);
        }
        f
    }

    #[test]
    fn extent_counts_bss_only_segments() {
        let image = elf(
            &[(0x20_0000, 0x1800, 0x1800), (0x20_2000, 0, 0x3_7000)],
            KERNEL_VIRT_BASE + 0x20_0000,
        );
        assert_eq!(load_extent(&image).unwrap(), (0x20_0000, 0x23_9000));
        let mem = crate::memory::create(16 << 20).unwrap();
        let k = load_kernel(&mem, 16 << 20, &image, Path::new("k")).unwrap();
        assert_eq!(
            k,
            LoadedKernel {
                entry: KERNEL_VIRT_BASE + 0x20_0000,
                phys_start: 0x20_0000,
                phys_end: 0x23_9000
            }
        );
        let b: u8 = mem.read_obj(GuestAddress(0x20_17ff)).unwrap();
        assert_eq!(b, 0xaa);
        let b: u8 = mem.read_obj(GuestAddress(0x20_1800)).unwrap();
        assert_eq!(b, 0);
    }

    #[test]
    fn bad_images_are_refused() {
        let mem = crate::memory::create(16 << 20).unwrap();
        let p = Path::new("k");
        let entry = KERNEL_VIRT_BASE + 0x20_0000;
        assert!(load_extent(b"\x7fELF").is_err());
        assert!(load_extent(&elf(&[], entry)).is_err());
        let low = elf(&[(0x1000, 0x100, 0x100)], entry);
        assert!(
            load_kernel(&mem, 16 << 20, &low, p)
                .unwrap_err()
                .to_string()
                .contains("boot data")
        );
        let big = elf(&[(0x20_0000, 0x100, 64 << 20)], entry);
        assert!(
            load_kernel(&mem, 16 << 20, &big, p)
                .unwrap_err()
                .to_string()
                .contains("--mem")
        );
        let unmapped = elf(&[(0x20_0000, 0x100, 0x100)], 0x8000_0000_0000);
        assert!(
            load_kernel(&mem, 16 << 20, &unmapped, p)
                .unwrap_err()
                .to_string()
                .contains("entry point")
        );
        let wrap = elf(&[(u64::MAX - 10, 0, 0x100)], entry);
        assert!(load_extent(&wrap).is_err());
    }
}
