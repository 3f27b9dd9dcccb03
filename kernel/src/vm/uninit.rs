//! UNINIT pages: how a page that is not in memory and has no swap slot is
//! built on its fault (`uninit_initialize`), from its region: zeros for the
//! stack, the executable's bytes and zeros for a segment page, the file's
//! bytes for a mapped page. The same code rebuilds a clean page that
//! eviction dropped.
use super::addr::UserPage;
use super::hw::IoError;
use super::region::{Kind, Region};
use crate::userprog::elf::PagePart;

/// Fills `frame` (the page's bytes; `zeroed`: they are all zero already)
/// with the first contents of `page`, one of `region`'s pages. `IoError`
/// when the file cannot be read.
pub fn initialize(
    region: &Region,
    page: UserPage,
    frame: &mut [u8],
    zeroed: bool,
) -> Result<(), IoError> {
    match &region.kind {
        Kind::Stack => {
            if !zeroed {
                frame.fill(0);
            }
            Ok(())
        }
        Kind::Mmap(m) => m.read_page(page.number() - region.start.number(), frame, zeroed),
        Kind::Image(image) => {
            let Some(plan) = image.elf.plan_page(page.addr()) else {
                // A page of the run that no segment touches cannot exist:
                // runs are made of touched pages only.
                return Err(IoError);
            };
            fill_parts(frame, plan.parts.as_slice(), zeroed, |buf, off| {
                image.file.read_at(buf, off).is_ok_and(|n| n == buf.len())
            })
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
) -> Result<(), IoError> {
    let mut cursor = 0usize;
    for p in parts {
        let (start, len) = (p.page_offset as usize, p.len as usize);
        if !zeroed {
            frame[cursor..start].fill(0);
        }
        if !read(&mut frame[start..start + len], p.file_offset) {
            return Err(IoError);
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
    use alloc::vec::Vec;

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
            Err(IoError)
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
}
