//! The mark of a faultline kernel: an ELF note every kernel binary carries and
//! the VMM checks before it boots anything (`--kernel` must name a faultline
//! kernel built for the same contract, not a user program or another ELF).
//!
//! The note lives in the section [`NOTE_SECTION`] (allocated, so the linker
//! also describes it with a `PT_NOTE` program header). In ELF note format it is
//! the header (`namesz`, `descsz`, `type`), the name [`NOTE_NAME`] padded to 4
//! bytes, and a descriptor of [`KERNEL_MAGIC`] and [`ABI_VERSION`].

/// The version of the guest/host contract (this crate). Raised whenever a
/// change makes an older kernel and a newer VMM (or the reverse) disagree.
pub const ABI_VERSION: u32 = 2;

/// Section holding the note.
pub const NOTE_SECTION: &str = ".note.faultline";

/// The note's name (owner), without its NUL terminator.
pub const NOTE_NAME: &[u8] = b"faultline";

/// The note's type.
pub const NOTE_TYPE: u32 = 0x464c_0001;

/// First bytes of the note's descriptor.
pub const KERNEL_MAGIC: [u8; 8] = *b"fltkern\0";

/// Size of the note's descriptor: the magic, the ABI version, 4 reserved bytes.
pub const DESC_SIZE: usize = 16;

/// The whole note as it lies in the kernel binary.
#[repr(C, align(4))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KernelNote {
    /// The ELF note header's name size: [`NOTE_NAME`]'s bytes and its NUL.
    pub namesz: u32,
    /// The ELF note header's descriptor size: [`DESC_SIZE`].
    pub descsz: u32,
    /// The ELF note header's type: [`NOTE_TYPE`].
    pub note_type: u32,
    /// [`NOTE_NAME`], NUL-terminated and padded to a multiple of 4.
    pub name: [u8; 12],
    /// [`KERNEL_MAGIC`].
    pub magic: [u8; 8],
    /// [`ABI_VERSION`] of the kernel, little-endian.
    pub abi_version: u32,
    /// Zero; pads the descriptor to [`DESC_SIZE`].
    pub reserved: u32,
}

/// The note of a kernel built from this crate.
pub const KERNEL_NOTE: KernelNote = KernelNote {
    namesz: NOTE_NAME.len() as u32 + 1,
    descsz: DESC_SIZE as u32,
    note_type: NOTE_TYPE,
    name: *b"faultline\0\0\0",
    magic: KERNEL_MAGIC,
    abi_version: ABI_VERSION,
    reserved: 0,
};

/// Why a note's descriptor is not the mark of a usable kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MarkError {
    /// Shorter than [`DESC_SIZE`] or without [`KERNEL_MAGIC`].
    BadDescriptor,
    /// A faultline kernel of another contract version.
    Version {
        /// The contract version the kernel was built with.
        found: u32,
    },
}

impl core::fmt::Display for MarkError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            MarkError::BadDescriptor => write!(f, "its faultline note is malformed"),
            MarkError::Version { found } => write!(
                f,
                "built for faultline ABI version {found}, this VMM speaks version {ABI_VERSION} \
                 (build the kernel and the VMM from the same sources)"
            ),
        }
    }
}

/// Checks the descriptor of a note named [`NOTE_NAME`] of type [`NOTE_TYPE`]:
/// the magic, then the ABI version. Returns the error that says what is wrong.
pub fn check_descriptor(desc: &[u8]) -> Result<(), MarkError> {
    if desc.len() < DESC_SIZE || desc[..8] != KERNEL_MAGIC {
        return Err(MarkError::BadDescriptor);
    }
    let mut version = [0u8; 4];
    version.copy_from_slice(&desc[8..12]);
    match u32::from_le_bytes(version) {
        ABI_VERSION => Ok(()),
        found => Err(MarkError::Version { found }),
    }
}

impl KernelNote {
    /// The descriptor bytes (what [`check_descriptor`] reads).
    pub fn descriptor(&self) -> [u8; DESC_SIZE] {
        let mut d = [0u8; DESC_SIZE];
        d[..8].copy_from_slice(&self.magic);
        d[8..12].copy_from_slice(&self.abi_version.to_le_bytes());
        d[12..].copy_from_slice(&self.reserved.to_le_bytes());
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_note_is_well_formed_and_accepted() {
        assert_eq!(core::mem::size_of::<KernelNote>(), 12 + 12 + DESC_SIZE);
        assert_eq!(&KERNEL_NOTE.name[..NOTE_NAME.len()], NOTE_NAME);
        assert_eq!(KERNEL_NOTE.name[NOTE_NAME.len()], 0);
        assert_eq!(
            (KERNEL_NOTE.namesz as usize).next_multiple_of(4),
            KERNEL_NOTE.name.len()
        );
        assert_eq!(check_descriptor(&KERNEL_NOTE.descriptor()), Ok(()));
    }

    #[test]
    fn bad_descriptors_are_refused() {
        let good = KERNEL_NOTE.descriptor();
        assert_eq!(check_descriptor(&good[..12]), Err(MarkError::BadDescriptor));
        assert_eq!(check_descriptor(&[]), Err(MarkError::BadDescriptor));
        let mut magic = good;
        magic[0] = b'X';
        assert_eq!(check_descriptor(&magic), Err(MarkError::BadDescriptor));
        let mut old = KERNEL_NOTE;
        old.abi_version = ABI_VERSION + 1;
        assert_eq!(
            check_descriptor(&old.descriptor()),
            Err(MarkError::Version {
                found: ABI_VERSION + 1
            })
        );
    }
}
