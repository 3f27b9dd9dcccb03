//! The VMM's port-I/O devices: the buffered console, the 16550 serial port,
//! the exit port and the panic-report port.

pub mod console;
pub mod exit;
pub mod panic;
pub mod serial;
