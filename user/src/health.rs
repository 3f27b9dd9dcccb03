//! After a test's bad act: proof that the kernel still works. The robustness
//! tests call [`still_works`] once the harm is done (and any victims are
//! waited for): it creates a file, writes it, reads it back and removes it,
//! then forks a child and collects its status.
use crate::{check, sys};

/// The status the proof's child exits with.
const CHILD_STATUS: i32 = 42;

/// Runs the file round trip and the fork, failing the test if either does
/// not work. Prints `(NAME) the kernel still works: file round trip and fork`.
pub fn still_works() {
    let name = c"alive.tmp";
    let data = b"still here\n";
    let made = sys::create(name, data.len() as u32);
    let fd = sys::open(name);
    let wrote = fd >= 0 && sys::write(fd, data) == data.len() as i32;
    let mut back = [0u8; 11];
    if fd >= 0 {
        sys::seek(fd, 0);
    }
    let read = fd >= 0 && sys::read(fd, &mut back) == data.len() as i32 && back == *data;
    if fd >= 0 {
        sys::close(fd);
    }
    let removed = sys::remove(name);
    let pid = sys::fork(c"alive");
    if pid == 0 {
        sys::exit(CHILD_STATUS);
    }
    let status = if pid > 0 { sys::wait(pid) } else { -1 };
    check!(
        made && wrote && read && removed && status == CHILD_STATUS,
        "the kernel still works: file round trip and fork"
    );
}
