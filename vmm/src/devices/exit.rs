//! The exit port: how the guest ends the run, and the `faultline` exit status
//! that follows (see `abi::exit`).

use abi::exit::{KIND_PANIC, KIND_PROGRAM, STATUS_PANIC, program_status};

/// What the guest wrote to the exit port.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GuestExit {
    /// The initial program ended with this status byte.
    Program(u8),
    /// The kernel panicked.
    Panic,
    /// A value with an unknown kind.
    Unknown(u32),
}

impl GuestExit {
    /// Decodes an exit-port value.
    pub fn decode(value: u32) -> GuestExit {
        match abi::exit::decode(value) {
            (KIND_PROGRAM, status) => GuestExit::Program(status),
            (KIND_PANIC, _) => GuestExit::Panic,
            _ => GuestExit::Unknown(value),
        }
    }

    /// The `faultline` process status for this exit.
    pub fn process_status(self) -> u8 {
        match self {
            GuestExit::Program(status) => program_status(status),
            GuestExit::Panic | GuestExit::Unknown(_) => STATUS_PANIC,
        }
    }

    /// A note for stderr when the status needs explaining.
    pub fn note(self) -> Option<String> {
        match self {
            GuestExit::Program(s) if program_status(s) != s => Some(format!(
                "faultline: program status {s} is reserved; reported as {}",
                program_status(s)
            )),
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
        let e = GuestExit::decode(0x7700_0001);
        assert_eq!(e, GuestExit::Unknown(0x7700_0001));
        assert_eq!(e.process_status(), STATUS_PANIC);
    }
}
