//! System-call dispatch: decodes the number and arguments from the trap frame,
//! checks every user pointer, fd and size, and calls the process, file-system
//! and console operations. A bad pointer ends the process with `exit(-1)`.
use super::fdtable::OpenFile;
use super::process;
use super::uaccess::{self, BadAddress, StrError};
use crate::arch::trap::TrapFrame;
use crate::console::{self, Input};
use crate::fs;
use crate::sched;
use abi::syscall::*;
use alloc::vec::Vec;

/// Bytes moved between user memory and a file per step.
const CHUNK: usize = 4096;

/// Kills the process for a bad user pointer.
fn bad() -> ! {
    process::exit(-1)
}

fn ok_or_kill<T>(r: Result<T, BadAddress>) -> T {
    r.unwrap_or_else(|_| bad())
}

/// Reads a user string argument; a bad pointer kills, a string longer than `max` is `None`.
fn user_str(ptr: u64, max: usize) -> Option<Vec<u8>> {
    match uaccess::read_cstr(ptr, max) {
        Ok(s) => Some(s),
        Err(StrError::TooLong) => None,
        Err(StrError::Bad(_)) => bad(),
    }
}

/// Handles the system call in `frame` and stores the result in rax.
pub fn dispatch(frame: &mut TrapFrame) {
    let (nr, a) = frame.syscall_args();
    process::current()
        .syscall_rsp
        .store(frame.rsp, core::sync::atomic::Ordering::Relaxed);
    let ret: i64 = match nr {
        SYS_HALT => crate::arch::power_off(0),
        SYS_EXIT => process::exit(a[0] as i32),
        SYS_FORK => {
            let name = user_str(a[0], 4096).unwrap_or_default();
            process::fork(&name, frame)
        }
        SYS_EXEC => match user_str(a[0], CMDLINE_MAX) {
            Some(cmdline) => process::exec(&cmdline),
            None => -1,
        },
        SYS_WAIT => process::wait(a[0] as i64) as i64,
        SYS_CREATE => match user_str(a[0], 4096) {
            Some(name) => {
                u32::try_from(a[1]).is_ok_and(|size| fs::create(&name, size).is_ok()) as i64
            }
            None => 0,
        },
        SYS_REMOVE => user_str(a[0], 4096).is_some_and(|name| fs::remove(&name).is_ok()) as i64,
        SYS_OPEN => match user_str(a[0], 4096).map(|name| fs::open(&name)) {
            Some(Ok(file)) => process::current()
                .fds
                .lock()
                .insert(OpenFile::File(crate::sync::Mutex::new(file)))
                .unwrap_or(-1),
            _ => -1,
        },
        SYS_FILESIZE => with_file(a[0], |f| f.length() as i64),
        SYS_READ => read(a[0], a[1], a[2]),
        SYS_WRITE => write(a[0], a[1], a[2]),
        SYS_SEEK => with_file(a[0], |f| {
            f.seek(a[1] as u32 as u64);
            0
        }),
        SYS_TELL => with_file(a[0], |f| f.tell() as i64),
        SYS_CLOSE => {
            process::current().fds.lock().close(a[0] as i64);
            0
        }
        SYS_MMAP => mmap(a[0], a[1], a[2] != 0, a[3] as i64, a[4] as i64),
        SYS_MUNMAP => {
            if let Some(space) = process::current().space() {
                crate::vm::munmap(space, a[0]);
            }
            0
        }
        SYS_DUP2 => process::current()
            .fds
            .lock()
            .dup2(a[0] as i64, a[1] as i64)
            .unwrap_or(-1),
        SYS_MEMSTATS => memstats(a[0]),
        SYS_TSC_KHZ => crate::arch::timer::tsc_khz() as i64,
        SYS_READDIR => readdir(a[0], a[1]),
        SYS_NULL => 0,
        SYS_KSTATS => kstats(a[0]),
        SYS_TRAP_BENCH => {
            process::current()
                .trap_bench
                .store(a[0] != 0, core::sync::atomic::Ordering::Relaxed);
            0
        }
        SYS_YIELD => {
            crate::sched::yield_now();
            0
        }
        _ => -1,
    };
    frame.set_return(ret as u64);
}

/// Runs `f` on the file behind `fd`; -1 for a bad fd or a console fd.
fn with_file(fd: u64, f: impl FnOnce(&mut fs::File) -> i64) -> i64 {
    let Some(open) = process::current().fds.lock().get(fd as i64) else {
        return -1;
    };
    match &*open {
        OpenFile::File(m) => f(&mut m.lock()),
        _ => -1,
    }
}

fn read(fd: u64, buf: u64, size: u64) -> i64 {
    let size = size as u32 as usize;
    ok_or_kill(uaccess::check(buf, size, true));
    let Some(open) = process::current().fds.lock().get(fd as i64) else {
        return -1;
    };
    match &*open {
        OpenFile::Stdin => read_console(buf, size),
        OpenFile::Stdout => -1,
        OpenFile::File(m) => {
            let Ok(mut kbuf) = crate::mm::fallible::try_zeroed(CHUNK.min(size)) else {
                return -1;
            };
            let mut done = 0;
            while done < size {
                let n = kbuf.len().min(size - done);
                let got = match m.lock().read(&mut kbuf[..n]) {
                    Ok(got) => got,
                    Err(_) => return if done > 0 { done as i64 } else { -1 },
                };
                ok_or_kill(uaccess::copy_to_user(buf + done as u64, &kbuf[..got]));
                done += got;
                if got < n {
                    break;
                }
            }
            done as i64
        }
    }
}

/// `read(0, ...)`: the console input that is available, up to `size` bytes;
/// waits (sleeping a tick at a time) until at least one byte arrives; 0 at
/// the end of input. Moves up to `console::INPUT_CHUNK` bytes per request to
/// the VMM. -1 when the kernel cannot allocate its bounce buffer.
fn read_console(buf: u64, size: usize) -> i64 {
    let Ok(mut kbuf) = crate::mm::fallible::try_zeroed(console::INPUT_CHUNK.min(size)) else {
        return -1;
    };
    let mut done = 0;
    while done < size {
        let n = kbuf.len().min(size - done);
        match console::read(&mut kbuf[..n]) {
            Input::Bytes(got) => {
                ok_or_kill(uaccess::copy_to_user(buf + done as u64, &kbuf[..got]));
                done += got;
            }
            Input::Empty if done == 0 => sched::sleep_ticks(1),
            Input::Empty | Input::Eof => break,
        }
    }
    done as i64
}

fn write(fd: u64, buf: u64, size: u64) -> i64 {
    let size = size as u32 as usize;
    ok_or_kill(uaccess::check(buf, size, false));
    let Some(open) = process::current().fds.lock().get(fd as i64) else {
        return -1;
    };
    match &*open {
        OpenFile::Stdin => -1,
        OpenFile::Stdout => write_console(buf, size),
        OpenFile::File(m) => {
            let Ok(mut kbuf) = crate::mm::fallible::try_zeroed(CHUNK.min(size)) else {
                return -1;
            };
            let mut done = 0;
            while done < size {
                let n = kbuf.len().min(size - done);
                ok_or_kill(uaccess::copy_from_user(&mut kbuf[..n], buf + done as u64));
                let put = m.lock().write(&kbuf[..n]).unwrap_or(0);
                done += put;
                if put < n {
                    break;
                }
            }
            done as i64
        }
    }
}

/// `write(1, ...)`: copies the buffer to the console `CONSOLE_UNIT` bytes at a
/// time; each piece is written as one unit (held back with other short
/// output, or sent with one exit: `console::write_user`), so a write of up
/// to `CONSOLE_UNIT` bytes never has other output inside it, while other
/// processes' output may fall between the pieces of a longer one. Returns
/// `size`, or -1 when the kernel cannot allocate its bounce buffer (up to
/// `CONSOLE_UNIT` bytes of kernel memory).
fn write_console(buf: u64, size: usize) -> i64 {
    let Ok(mut kbuf) = crate::mm::fallible::try_zeroed(CONSOLE_UNIT.min(size)) else {
        return -1;
    };
    let mut done = 0;
    while done < size {
        let n = kbuf.len().min(size - done);
        ok_or_kill(uaccess::copy_from_user(&mut kbuf[..n], buf + done as u64));
        console::write_user(&kbuf[..n]);
        done += n;
    }
    size as i64
}

fn memstats(ptr: u64) -> i64 {
    let (user_used, user_total) = crate::mm::palloc::user_usage();
    let (kernel_used, _) = crate::mm::palloc::kernel_usage();
    let (swap_slots_used, swap_slots_total) = crate::vm::swap_usage();
    let swap_slots_cached = crate::vm::cached_slots();
    let stats = MemStats {
        user_frames_used: user_used as u64,
        user_frames_total: user_total as u64,
        kernel_frames_used: kernel_used as u64,
        swap_slots_used,
        swap_slots_total,
        processes: process::live_processes(),
        swap_slots_cached,
    };
    copy_struct_to_user(ptr, &stats)
}

fn kstats(ptr: u64) -> i64 {
    let (syscalls, syscall_cycles) = super::syscall_counters();
    let [copy, teardown] = crate::vm::last_costs();
    let exits = crate::arch::exits::counts();
    let cache = crate::fs::cache_stats();
    let stats = KernelStats {
        syscalls,
        syscall_cycles,
        boot_tsc: crate::boot_tsc(),
        first_user_tsc: process::first_user_tsc(),
        pvm_trapping_instructions: crate::arch::cpu::pvm_trap_counts().0,
        pvm_device_io: crate::arch::cpu::pvm_trap_counts().1,
        last_fork_copy_cycles: copy.0,
        last_fork_copy_pages: copy.1,
        last_teardown_cycles: teardown.0,
        last_teardown_pages: teardown.1,
        context_switches: crate::sched::switches(),
        set_cr3: exits[0],
        flush_all: exits[1],
        flush_page: exits[2],
        write_msr: exits[3],
        halt: exits[4],
        fs_cache_bytes: cache.blocks * crate::fs::cache::BLOCK_SIZE as u64,
        fs_cache_hits: cache.hits,
        fs_cache_misses: cache.misses,
        fs_cache_write_backs: cache.write_backs,
        fs_cache_eviction_write_backs: cache.eviction_write_backs,
    };
    copy_struct_to_user(ptr, &stats)
}

/// Copies a plain `repr(C)` record of u64 fields to user memory; returns 0.
fn copy_struct_to_user<T: Copy>(ptr: u64, value: &T) -> i64 {
    // SAFETY: callers pass repr(C) structs made only of u64 fields (no padding),
    // so viewing one as bytes is sound.
    let bytes = unsafe {
        core::slice::from_raw_parts(value as *const T as *const u8, core::mem::size_of::<T>())
    };
    ok_or_kill(uaccess::copy_to_user(ptr, bytes));
    0
}

/// `mmap`: the mapped address, or 0 (NULL) when the request is refused.
fn mmap(addr: u64, length: u64, writable: bool, fd: i64, offset: i64) -> i64 {
    use crate::vm::mmap::{MmapError, check_fd, check_range};
    let refused = |_: MmapError| 0;
    let checked = check_fd(fd).and_then(|_| check_range(addr, length, offset));
    if let Err(e) = checked {
        return refused(e);
    }
    let process = process::current();
    let Some(open) = process.fds.lock().get(fd) else {
        return 0;
    };
    let OpenFile::File(m) = &*open else {
        return 0;
    };
    let file = m.lock().reopen();
    let file_len = file.length();
    let Ok(file) = crate::mm::fallible::try_arc(file) else {
        return 0;
    };
    match process.space().map(|space| {
        let args = crate::vm::mmap::MmapArgs {
            addr,
            length,
            writable,
            offset,
        };
        crate::vm::mmap(space, args, file, file_len)
    }) {
        Some(Ok(addr)) => addr as i64,
        _ => 0,
    }
}

fn readdir(index: u64, name_out: u64) -> i64 {
    ok_or_kill(uaccess::check(name_out, 16, true));
    match usize::try_from(index).ok().and_then(fs::entry) {
        Some((name, _, size)) => {
            ok_or_kill(uaccess::copy_to_user(name_out, &name));
            size as i64
        }
        None => -1,
    }
}
