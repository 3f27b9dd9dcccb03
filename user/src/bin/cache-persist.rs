//! `cache-persist`: a child writes a file and exits; the parent waits for it
//! and then never finishes, so the run ends only at the VMM's `--timeout`.
//! What the exited child wrote must be in the `--disk` image all the same
//! (the host test reads it back): the kernel writes a process's cached
//! blocks to the disk when it exits, not only at shutdown.
#![no_std]
#![no_main]

use ulib::fstest::guest::write_pattern;
use ulib::fstest::{PERSIST_CACHE_NAME, PERSIST_CACHE_SEED, PERSIST_CACHE_SIZE};
use ulib::{cformat, check, fail, msg, sys};

ulib::test_main!(body);

fn body(_args: &[&str]) {
    let pid = sys::fork(c"cache-persist");
    if pid == 0 {
        write_file();
        sys::exit(0x51);
    }
    if pid < 0 {
        fail!("fork");
    }
    let status = sys::wait(pid);
    check!(status == 0x51, "wait for the writer");
    msg!("waiting for the timeout");
    loop {
        core::hint::spin_loop();
    }
}

fn write_file() {
    let name = cformat!("{PERSIST_CACHE_NAME}");
    if !sys::create(name.as_cstr(), PERSIST_CACHE_SIZE as u32) {
        fail!("create \"{PERSIST_CACHE_NAME}\"");
    }
    let fd = sys::open(name.as_cstr());
    if fd < 2 {
        fail!("open \"{PERSIST_CACHE_NAME}\"");
    }
    write_pattern::<333>(
        fd,
        PERSIST_CACHE_NAME,
        PERSIST_CACHE_SIZE,
        PERSIST_CACHE_SEED,
    );
    // Left open: exit closes it.
    msg!("wrote \"{PERSIST_CACHE_NAME}\"");
}
