//! Loading an executable into a new address space: open the file, validate the
//! ELF image, copy each page of each PT_LOAD segment in, and lay out the initial
//! stack with the arguments.
use super::args::{self, ArgsError};
use super::elf::{self, ElfError};
use crate::fs::{self, File};
use crate::mm::addrspace::{AddressSpace, OutOfMemory};
use crate::mm::phys_to_virt;
use abi::layout::{PAGE_SIZE, USER_STACK};

/// A loaded program, ready to enter.
pub struct Loaded {
    pub aspace: AddressSpace,
    /// The executable, open with writes denied.
    pub file: File,
    pub entry: u64,
    pub rsp: u64,
    pub argc: u64,
    pub argv: u64,
}

#[derive(Debug)]
pub enum LoadError {
    /// The executable could not be opened.
    Open,
    /// Reading the executable failed.
    Read,
    Elf(ElfError),
    Args(ArgsError),
    OutOfMemory,
}

impl From<OutOfMemory> for LoadError {
    fn from(_: OutOfMemory) -> Self {
        LoadError::OutOfMemory
    }
}

/// Loads the program named by the first word of `cmdline`.
pub fn load(cmdline: &[u8]) -> Result<Loaded, LoadError> {
    let argv = args::split(cmdline).map_err(LoadError::Args)?;
    let mut file = fs::open(argv[0]).map_err(|_| LoadError::Open)?;
    let image = {
        let f = &file;
        elf::parse(f.length(), &mut |off, buf| {
            f.read_at(buf, off).is_ok_and(|n| n == buf.len())
        })
        .map_err(LoadError::Elf)?
    };
    // Refuse images that cannot fit before planning them page by page.
    if image.page_count() > crate::mm::palloc::user_usage().1 as u64 {
        return Err(LoadError::OutOfMemory);
    }
    let mut aspace = AddressSpace::new()?;
    for plan in elf::page_plan(&image) {
        let pa = aspace.add_page(plan.va, plan.writable)?;
        for part in &plan.parts {
            let dst = phys_to_virt(pa + part.page_offset as u64) as *mut u8;
            // SAFETY: the frame is resident, owned by the new address space
            // (not yet running) and part.page_offset + part.len <= PAGE_SIZE.
            let dst = unsafe { core::slice::from_raw_parts_mut(dst, part.len as usize) };
            if !file
                .read_at(dst, part.file_offset)
                .is_ok_and(|n| n == dst.len())
            {
                return Err(LoadError::Read);
            }
        }
    }
    let stack_pa = aspace.add_page(USER_STACK - PAGE_SIZE, true)?;
    // SAFETY: a resident 4 KiB frame of the new address space, reached through
    // the direct map, not shared with anything.
    let page = unsafe { &mut *(phys_to_virt(stack_pa) as *mut [u8; PAGE_SIZE as usize]) };
    let layout = args::build_stack(&argv, USER_STACK, page).map_err(LoadError::Args)?;
    file.deny_write();
    Ok(Loaded {
        aspace,
        file,
        entry: image.entry,
        rsp: layout.rsp,
        argc: layout.argc,
        argv: layout.argv,
    })
}
