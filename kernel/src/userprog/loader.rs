//! Loading an executable into a new address space, lazily (`load`): open the
//! file, validate the ELF image, describe its segments as regions of the new
//! space (nothing is read, and no per-page record is made, until a page is
//! touched; code pages are read-only and only code is executable), and claim
//! the first stack page at once with the arguments. Nothing here allocates
//! in proportion to the executable's size.
use super::args::{self, ArgsError};
use super::elf::{self, ElfError};
use crate::fs;
use crate::fs::File;
use crate::mm::fallible;
use crate::vm::region::Image;
use crate::vm::{AddressSpace, VmError};
use abi::layout::{PAGE_SIZE, USER_STACK};
use alloc::sync::Arc;

/// A loaded program, ready to enter.
pub struct Loaded {
    /// The new address space, the program's pages registered in it.
    pub space: AddressSpace,
    /// The executable, open with writes denied (shared with its pages' regions).
    pub file: Arc<File>,
    /// The program's entry point.
    pub entry: u64,
    /// The initial user stack pointer, below the arguments.
    pub rsp: u64,
    /// The number of arguments (`main`'s first argument).
    pub argc: u64,
    /// The user address of the `argv` array (`main`'s second argument).
    pub argv: u64,
}

/// Why a program could not be loaded (`exec` then returns -1).
#[derive(Debug)]
pub enum LoadError {
    /// The executable could not be opened.
    Open,
    /// The file is not a valid executable.
    Elf(ElfError),
    /// The command line is empty, too long, or has too many arguments.
    Args(ArgsError),
    /// The address space could not be built (out of memory, or I/O).
    Vm(VmError),
}

impl From<VmError> for LoadError {
    fn from(e: VmError) -> Self {
        LoadError::Vm(e)
    }
}

impl From<crate::mm::OutOfMemory> for LoadError {
    fn from(_: crate::mm::OutOfMemory) -> Self {
        LoadError::Vm(VmError::OutOfMemory)
    }
}

/// Loads the program named by the first word of `cmdline` into a new space
/// for process `pid` named `name`. On failure everything taken is given back.
pub fn load(cmdline: &[u8], pid: u32, name: &[u8]) -> Result<Loaded, LoadError> {
    let program = args::program(cmdline).map_err(LoadError::Args)?;
    let mut file = fs::open(program).map_err(|_| LoadError::Open)?;
    let elf = {
        let f = &file;
        elf::parse(f.length(), &mut |off, buf| {
            f.read_at(buf, off).is_ok_and(|n| n == buf.len())
        })
        .map_err(LoadError::Elf)?
    };
    file.deny_write();
    let file = fallible::try_arc(file)?;
    let image = fallible::try_arc(Image {
        file: file.clone(),
        elf,
    })?;
    let entry = image.elf.entry;
    let space = AddressSpace::new(pid, name)?;
    space.load_image(image)?;
    let stack_page = USER_STACK - PAGE_SIZE;
    let layout = space
        .claim_page_with(stack_page, |bytes| {
            let page: &mut [u8; PAGE_SIZE as usize] = bytes.try_into().expect("a page");
            args::build_stack_for(cmdline, USER_STACK, page)
        })?
        .map_err(LoadError::Args)?;
    Ok(Loaded {
        space,
        file,
        entry,
        rsp: layout.rsp,
        argc: layout.argc,
        argv: layout.argv,
    })
}
