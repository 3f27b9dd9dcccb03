//! System-call wrappers: the `syscall` instruction with the number in `rax` and
//! arguments in `rdi, rsi, rdx, r10, r8, r9` (numbers in [`abi::syscall`]), and
//! `get_phys_addr` through `int $0x42`.
//!
//! Typed wrappers take Rust slices and C strings; the `*_raw` variants take raw
//! pointers so that tests can hand the kernel bad ones (NULL, unmapped or kernel
//! addresses, strings that run into an unmapped page).

use core::arch::asm;
use core::ffi::CStr;

use abi::syscall::*;

/// A process id (Pintos `pid_t`); -1 is `PID_ERROR`.
pub type Pid = i32;

/// Pintos `PID_ERROR`.
pub const PID_ERROR: Pid = -1;

/// Pintos `MAP_FAILED`.
pub const MAP_FAILED: *mut u8 = core::ptr::null_mut();

/// Issues system call `nr` with six arguments and returns `rax`.
#[inline(always)]
pub fn syscall6(nr: u64, a1: u64, a2: u64, a3: u64, a4: u64, a5: u64, a6: u64) -> i64 {
    let ret: i64;
    // SAFETY: the kernel preserves every register except rax (the result), rcx and
    // r11 (clobbered by `syscall`), and may read or write user memory the
    // arguments point to, which the default (non-`nomem`) asm options allow.
    unsafe {
        asm!(
            "syscall",
            inlateout("rax") nr as i64 => ret,
            in("rdi") a1,
            in("rsi") a2,
            in("rdx") a3,
            in("r10") a4,
            in("r8") a5,
            in("r9") a6,
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack),
        );
    }
    ret
}

/// Issues system call `nr` with up to three arguments.
#[inline(always)]
pub fn syscall3(nr: u64, a1: u64, a2: u64, a3: u64) -> i64 {
    syscall6(nr, a1, a2, a3, 0, 0, 0)
}

/// Powers the machine off (Pintos `halt`).
pub fn halt() -> ! {
    syscall3(SYS_HALT, 0, 0, 0);
    // The kernel never returns from halt; spin if it somehow does.
    loop {
        core::hint::spin_loop();
    }
}

/// Ends the process with `status`.
pub fn exit(status: i32) -> ! {
    syscall3(SYS_EXIT, status as i64 as u64, 0, 0);
    loop {
        core::hint::spin_loop();
    }
}

/// Clones the process under `name`: the parent gets the child's pid (or
/// [`PID_ERROR`]), the child gets 0.
pub fn fork(name: &CStr) -> Pid {
    fork_raw(name.as_ptr().cast())
}

/// [`fork`] with a raw name pointer.
pub fn fork_raw(name: *const u8) -> Pid {
    syscall3(SYS_FORK, name as u64, 0, 0) as Pid
}

/// Replaces the program with `cmdline`; returns -1 only if the kernel reports a
/// failure instead of ending the process.
pub fn exec(cmdline: &CStr) -> i32 {
    exec_raw(cmdline.as_ptr().cast())
}

/// [`exec`] with a raw command-line pointer.
pub fn exec_raw(cmdline: *const u8) -> i32 {
    syscall3(SYS_EXEC, cmdline as u64, 0, 0) as i32
}

/// Waits for child `pid` and returns its exit status (-1 if it was killed, is
/// not a child, or was already waited for).
pub fn wait(pid: Pid) -> i32 {
    syscall3(SYS_WAIT, pid as i64 as u64, 0, 0) as i32
}

/// Creates file `name` of `size` bytes.
pub fn create(name: &CStr, size: u32) -> bool {
    create_raw(name.as_ptr().cast(), size)
}

/// [`create`] with a raw name pointer.
pub fn create_raw(name: *const u8, size: u32) -> bool {
    syscall3(SYS_CREATE, name as u64, size as u64, 0) != 0
}

/// Removes file `name`.
pub fn remove(name: &CStr) -> bool {
    remove_raw(name.as_ptr().cast())
}

/// [`remove`] with a raw name pointer.
pub fn remove_raw(name: *const u8) -> bool {
    syscall3(SYS_REMOVE, name as u64, 0, 0) != 0
}

/// Opens file `name`; returns an fd ≥ 2 or -1.
pub fn open(name: &CStr) -> i32 {
    open_raw(name.as_ptr().cast())
}

/// [`open`] with a raw name pointer.
pub fn open_raw(name: *const u8) -> i32 {
    syscall3(SYS_OPEN, name as u64, 0, 0) as i32
}

/// Size in bytes of the file open as `fd`, or -1.
pub fn filesize(fd: i32) -> i32 {
    syscall3(SYS_FILESIZE, fd as i64 as u64, 0, 0) as i32
}

/// Reads into `buf`; returns the bytes read, 0 at end of file, or -1.
pub fn read(fd: i32, buf: &mut [u8]) -> i32 {
    read_raw(fd, buf.as_mut_ptr(), buf.len())
}

/// [`read`] with a raw buffer.
pub fn read_raw(fd: i32, buf: *mut u8, len: usize) -> i32 {
    syscall3(SYS_READ, fd as i64 as u64, buf as u64, len as u64) as i32
}

/// Writes `buf`; returns the bytes written or -1.
pub fn write(fd: i32, buf: &[u8]) -> i32 {
    write_raw(fd, buf.as_ptr(), buf.len())
}

/// [`write`] with a raw buffer.
pub fn write_raw(fd: i32, buf: *const u8, len: usize) -> i32 {
    syscall3(SYS_WRITE, fd as i64 as u64, buf as u64, len as u64) as i32
}

/// Moves the position of `fd` to `pos`.
pub fn seek(fd: i32, pos: u32) {
    syscall3(SYS_SEEK, fd as i64 as u64, pos as u64, 0);
}

/// Current position of `fd`.
pub fn tell(fd: i32) -> u32 {
    syscall3(SYS_TELL, fd as i64 as u64, 0, 0) as u32
}

/// Closes `fd`.
pub fn close(fd: i32) {
    syscall3(SYS_CLOSE, fd as i64 as u64, 0, 0);
}

/// Maps `len` bytes of `fd` from `offset` at `addr`; returns `addr` or [`MAP_FAILED`].
pub fn mmap(addr: *mut u8, len: usize, writable: bool, fd: i32, offset: i64) -> *mut u8 {
    syscall6(
        SYS_MMAP,
        addr as u64,
        len as u64,
        writable as u64,
        fd as i64 as u64,
        offset as u64,
        0,
    ) as u64 as *mut u8
}

/// Removes the mapping that starts at `addr`.
pub fn munmap(addr: *mut u8) {
    syscall3(SYS_MUNMAP, addr as u64, 0, 0);
}

/// Makes `newfd` refer to what `oldfd` refers to (Linux semantics); returns
/// `newfd` or -1.
pub fn dup2(oldfd: i32, newfd: i32) -> i32 {
    syscall3(SYS_DUP2, oldfd as i64 as u64, newfd as i64 as u64, 0) as i32
}

/// The kernel's memory accounting, or `None` if the call failed.
pub fn memstats() -> Option<MemStats> {
    let mut stats = MemStats::default();
    let r = syscall3(SYS_MEMSTATS, &mut stats as *mut MemStats as u64, 0, 0);
    (r == 0).then_some(stats)
}

/// The null system call (does nothing in the kernel; for benchmarks).
pub fn null() -> i64 {
    syscall3(SYS_NULL, 0, 0, 0)
}

/// The kernel's timing counters.
pub fn kstats() -> Option<KernelStats> {
    let mut stats = KernelStats::default();
    let r = syscall3(SYS_KSTATS, &mut stats as *mut KernelStats as u64, 0, 0);
    (r == 0).then_some(stats)
}

/// Gives up the CPU to the next ready thread (faultline's `yield`): a
/// process waiting on another lets it run instead of spinning until the
/// next timer tick. Always returns 0.
pub fn yield_now() -> i64 {
    syscall3(SYS_YIELD, 0, 0, 0)
}

/// Makes `int3` return at once (true) or end the process again (false).
pub fn trap_bench(enable: bool) -> i64 {
    syscall3(SYS_TRAP_BENCH, enable as u64, 0, 0)
}

/// TSC frequency in kHz.
pub fn tsc_khz() -> u64 {
    syscall3(SYS_TSC_KHZ, 0, 0, 0) as u64
}

/// Directory entry number `index`: fills `name` with its NUL-padded name and
/// returns its size, or `None` past the last entry.
pub fn readdir(index: u64, name: &mut [u8; 16]) -> Option<u64> {
    let r = syscall3(SYS_READDIR, index, name.as_mut_ptr() as u64, 0);
    (r >= 0).then_some(r as u64)
}

/// Physical address that user address `addr` maps to, or 0 if it is not
/// mapped (Pintos `get_phys_addr`).
pub fn get_phys_addr(addr: *const u8) -> u64 {
    let ret: u64;
    // SAFETY: `int $0x42` only reads rax and returns the answer in rax; the kernel
    // neither touches memory nor other registers.
    unsafe {
        asm!("int 0x42", inlateout("rax") addr as u64 => ret, options(nostack));
    }
    ret
}

/// Reads the time-stamp counter.
pub fn rdtsc() -> u64 {
    // SAFETY: `rdtsc` is allowed in ring 3 (CR4.TSD is clear) and has no side effects.
    unsafe { core::arch::x86_64::_rdtsc() }
}
