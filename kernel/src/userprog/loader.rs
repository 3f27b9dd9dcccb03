//! Loading an executable into a new address space, lazily (`load_segment`):
//! open the file, validate the ELF image, register one UNINIT page per page
//! of its PT_LOAD segments (nothing is read until touched; code pages are
//! read-only), and claim the first stack page at once with the arguments.
use super::args::{self, ArgsError};
use super::elf::{self, ElfError};
use crate::fs;
use crate::fs::File;
use crate::vm::{self, SpaceId, VmError, uninit::Initializer};
use abi::layout::{PAGE_SIZE, USER_STACK};
use alloc::sync::Arc;

/// Most pages an executable's PT_LOAD segments may span (128 MiB).
pub const MAX_IMAGE_PAGES: u64 = 32 * 1024;

/// A loaded program, ready to enter.
pub struct Loaded {
    pub space: SpaceId,
    /// The executable, open with writes denied (shared with its pages' initializers).
    pub file: Arc<File>,
    pub entry: u64,
    pub rsp: u64,
    pub argc: u64,
    pub argv: u64,
}

#[derive(Debug)]
pub enum LoadError {
    /// The executable could not be opened.
    Open,
    Elf(ElfError),
    Args(ArgsError),
    Vm(VmError),
}

impl From<VmError> for LoadError {
    fn from(e: VmError) -> Self {
        LoadError::Vm(e)
    }
}

/// Loads the program named by the first word of `cmdline` into a new space.
pub fn load(cmdline: &[u8], pid: u32) -> Result<Loaded, LoadError> {
    let argv = args::split(cmdline).map_err(LoadError::Args)?;
    let mut file = fs::open(argv[0]).map_err(|_| LoadError::Open)?;
    let image = {
        let f = &file;
        elf::parse(f.length(), &mut |off, buf| {
            f.read_at(buf, off).is_ok_and(|n| n == buf.len())
        })
        .map_err(LoadError::Elf)?
    };
    // Every page of the image gets an SPT entry on the kernel heap; cap the
    // image so that a huge (even if sparse) bss cannot exhaust it.
    if image.page_count() > MAX_IMAGE_PAGES {
        return Err(LoadError::Vm(VmError::OutOfMemory));
    }
    file.deny_write();
    let file = Arc::new(file);
    let space = vm::new_space(pid)?;
    match populate(space, &file, &image, &argv) {
        Ok((rsp, argc, argv)) => Ok(Loaded {
            space,
            file,
            entry: image.entry,
            rsp,
            argc,
            argv,
        }),
        Err(e) => {
            vm::destroy_space(space);
            Err(e)
        }
    }
}

/// Registers the segments' pages and builds the stack; returns (rsp, argc, argv).
fn populate(
    space: SpaceId,
    file: &Arc<File>,
    image: &elf::ElfImage,
    argv: &[&[u8]],
) -> Result<(u64, u64, u64), LoadError> {
    for plan in elf::page_plan(image) {
        let init = Initializer::Elf {
            file: file.clone(),
            parts: plan.parts,
        };
        vm::alloc_page_with_initializer(space, plan.va, plan.writable, init)?;
    }
    let stack_page = USER_STACK - PAGE_SIZE;
    vm::alloc_page_with_initializer(space, stack_page, true, Initializer::Zero)?;
    let layout = vm::claim_page_with(space, stack_page, |bytes| {
        let page: &mut [u8; PAGE_SIZE as usize] = bytes.try_into().expect("a page");
        args::build_stack(argv, USER_STACK, page)
    })?
    .map_err(LoadError::Args)?;
    Ok((layout.rsp, layout.argc, layout.argv))
}
