//! The exit port: how the guest ends the run, and the `faultline` exit status
//! that follows (see `abi::exit`).

use abi::exit::{
    KIND_BAD_DISK, KIND_PANIC, KIND_PROGRAM, STATUS_PANIC, STATUS_VMM_ERROR, program_status,
};

/// What the guest wrote to the exit port.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GuestExit {
    /// The initial program ended with this status byte.
    Program(u8),
    /// The kernel panicked.
    Panic,
    /// The kernel could not mount the file-system disk (it said why on the console).
    BadDisk,
    /// A value with an unknown kind.
    Unknown(u32),
}

impl GuestExit {
    /// Decodes an exit-port value.
    pub fn decode(value: u32) -> GuestExit {
        match abi::exit::decode(value) {
            (KIND_PROGRAM, status) => GuestExit::Program(status),
            (KIND_PANIC, _) => GuestExit::Panic,
            (KIND_BAD_DISK, _) => GuestExit::BadDisk,
            _ => GuestExit::Unknown(value),
        }
    }

    /// The `faultline` process status for this exit.
    pub fn process_status(self) -> u8 {
        match self {
            GuestExit::Program(status) => program_status(status),
            GuestExit::Panic | GuestExit::Unknown(_) => STATUS_PANIC,
            GuestExit::BadDisk => STATUS_VMM_ERROR,
        }
    }

    /// A note for stderr when the status needs explaining.
    pub fn note(self) -> Option<String> {
        match self {
            GuestExit::Program(s) if program_status(s) != s => Some(format!(
                "faultline: program status {s} is reserved; reported as {}",
                program_status(s)
            )),
            GuestExit::BadDisk => Some(
                "faultline: error: the kernel refused the file-system image (the console says why)"
                    .into(),
            ),
            GuestExit::Unknown(v) => Some(format!(
                "faultline: guest wrote an unknown value {v:#x} to the exit port"
            )),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use abi::exit::{STATUS_CLAMPED, encode};

    #[test]
    fn statuses() {
        let e = GuestExit::decode(encode(KIND_PROGRAM, -1));
        assert_eq!(e, GuestExit::Program(255));
        assert_eq!(e.process_status(), 255);
        assert_eq!(e.note(), None);
        assert_eq!(
            GuestExit::decode(encode(KIND_PROGRAM, 0)).process_status(),
            0
        );
        let e = GuestExit::decode(encode(KIND_PROGRAM, 251));
        assert_eq!(e.process_status(), STATUS_CLAMPED);
        assert!(e.note().is_some());
        assert_eq!(
            GuestExit::decode(encode(KIND_PANIC, 0)).process_status(),
            STATUS_PANIC
        );
        let e = GuestExit::decode(encode(KIND_BAD_DISK, 0));
        assert_eq!(e, GuestExit::BadDisk);
        assert_eq!(e.process_status(), STATUS_VMM_ERROR);
        assert!(e.note().unwrap().contains("file-system image"));
        let e = GuestExit::decode(0x7700_0001);
        assert_eq!(e, GuestExit::Unknown(0x7700_0001));
        assert_eq!(e.process_status(), STATUS_PANIC);
    }
}
