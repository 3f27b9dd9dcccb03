//! System-call numbers (Pintos `syscall-nr.h`) and faultline's own calls (64 and up).
//!
//! Calling convention: `syscall` instruction, number in `rax`, arguments in
//! `rdi, rsi, rdx, r10, r8, r9`, result in `rax`.

/// `halt()`: powers the machine off (the VM ends with status 0).
pub const SYS_HALT: u64 = 0;
/// `exit(status)`: ends the calling process with `status`; does not return.
pub const SYS_EXIT: u64 = 1;
/// `fork(name)`: copies the calling process; returns the child's pid in the
/// parent and 0 in the child, or -1 when the copy cannot be made.
pub const SYS_FORK: u64 = 2;
/// `exec(cmdline)`: replaces the calling process's program; returns -1 only
/// on failure (no such program, a bad ELF, a command line too long).
pub const SYS_EXEC: u64 = 3;
/// `wait(pid)`: waits for the child `pid` to end and returns its status; -1
/// if `pid` is not a child not yet waited for.
pub const SYS_WAIT: u64 = 4;
/// `create(name, size)`: creates a file of `size` zero bytes; returns 1, or
/// 0 when the name is bad or taken or the disk has no room.
pub const SYS_CREATE: u64 = 5;
/// `remove(name)`: deletes a file; returns 1, or 0 when there is no such file.
pub const SYS_REMOVE: u64 = 6;
/// `open(name)`: opens a file; returns a new file descriptor, or -1.
pub const SYS_OPEN: u64 = 7;
/// `filesize(fd)`: the file's size in bytes, or -1 for a bad or console fd.
pub const SYS_FILESIZE: u64 = 8;
/// `read(fd, buf, size)`: reads up to `size` bytes; returns how many, or -1.
pub const SYS_READ: u64 = 9;
/// `write(fd, buf, size)`: writes up to `size` bytes; returns how many, or -1.
pub const SYS_WRITE: u64 = 10;
/// `seek(fd, position)`: moves the file's position; returns 0, -1 for a bad fd.
pub const SYS_SEEK: u64 = 11;
/// `tell(fd)`: the file's position, or -1 for a bad or console fd.
pub const SYS_TELL: u64 = 12;
/// `close(fd)`: closes a file descriptor (a bad one is ignored); returns 0.
pub const SYS_CLOSE: u64 = 13;
/// `mmap(addr, length, writable, fd, offset)`: maps a file at `addr`;
/// returns `addr`, or 0 (NULL) when the mapping is refused.
pub const SYS_MMAP: u64 = 14;
/// `munmap(addr)`: removes the mapping that starts at `addr`, writing its
/// dirty pages back; returns 0.
pub const SYS_MUNMAP: u64 = 15;
/// `dup2(oldfd, newfd)`: makes `newfd` refer to what `oldfd` does; returns
/// `newfd`, or -1 when `oldfd` is not open, `newfd` is out of range or the
/// table cannot grow.
pub const SYS_DUP2: u64 = 22;

/// faultline: fill a [`MemStats`] at the user pointer in `rdi`; returns 0.
pub const SYS_MEMSTATS: u64 = 64;
/// faultline: read the TSC frequency in kHz (for benchmarks).
pub const SYS_TSC_KHZ: u64 = 65;
/// faultline: `readdir(index, name_out)`: copies the NUL-padded name of directory
/// entry number `index` into the 16-byte buffer `name_out` and returns the file's
/// size, or -1 past the last entry.
pub const SYS_READDIR: u64 = 66;
/// faultline: does nothing and returns 0 (the null system call of benchmarks).
pub const SYS_NULL: u64 = 67;
/// faultline: fill a [`KernelStats`] at the user pointer in `rdi`; returns 0.
pub const SYS_KSTATS: u64 = 68;

/// faultline: `trap_bench(enable)`: while enabled for the calling process, a
/// breakpoint (`int3`) returns to the next instruction at once instead of
/// ending the process, so the bare cost of a trap can be timed; returns 0.
pub const SYS_TRAP_BENCH: u64 = 69;
/// faultline: gives up the CPU to the next ready thread (the caller runs
/// again at its turn, at once when no other thread is ready); returns 0.
/// For a program waiting on another process (a file it will create) without
/// spinning through its time slice.
pub const SYS_YIELD: u64 = 70;

/// Kernel-side timing counters, filled by [`SYS_KSTATS`].
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KernelStats {
    /// System calls handled.
    pub syscalls: u64,
    /// TSC cycles spent inside the kernel's system-call handling (from the
    /// generic trap handler's entry to its exit), excluding the trap itself.
    pub syscall_cycles: u64,
    /// TSC at kernel entry.
    pub boot_tsc: u64,
    /// TSC when the initial process first entered user mode.
    pub first_user_tsc: u64,
    /// Trapping instructions (privileged instructions the PVM host must exit
    /// and emulate) executed so far in PVM guest mode, port I/O to devices
    /// excluded; always 0 in the native mode.
    pub pvm_trapping_instructions: u64,
    /// Port I/O to the VMM's devices (console, exit, markers) in PVM guest mode.
    pub pvm_device_io: u64,
    /// The last `fork`'s copy of the parent's pages: TSC cycles.
    pub last_fork_copy_cycles: u64,
    /// The last `fork`'s copy of the parent's pages: pages copied.
    pub last_fork_copy_pages: u64,
    /// The last address-space teardown (exit or exec): TSC cycles.
    pub last_teardown_cycles: u64,
    /// The last address-space teardown (exit or exec): pages freed.
    pub last_teardown_pages: u64,
    /// Context switches so far.
    pub context_switches: u64,
    /// Privileged operations asked of the host so far (hypercalls in the PVM
    /// guest mode, the instructions themselves in the native mode), this
    /// field and the four after it: loads of CR3.
    pub set_cr3: u64,
    /// Flushes of the whole TLB.
    pub flush_all: u64,
    /// Flushes of one page's TLB entry.
    pub flush_page: u64,
    /// MSR writes.
    pub write_msr: u64,
    /// Halts (the idle loop's waits).
    pub halt: u64,
    /// The file-system block cache: bytes it holds now (it grows on demand;
    /// 0: nothing cached, requests go to the disk).
    pub fs_cache_bytes: u64,
    /// Block look-ups the cache served from memory.
    pub fs_cache_hits: u64,
    /// Block look-ups that read the disk.
    pub fs_cache_misses: u64,
    /// Dirty blocks written back, in all.
    pub fs_cache_write_backs: u64,
    /// Dirty blocks written back to make room for another block.
    pub fs_cache_eviction_write_backs: u64,
}

/// `int $0x42` with a user address in `rax` returns the physical address it maps
/// to, or 0 (Pintos `get_phys_addr`).
pub const GET_PHYS_ADDR_VECTOR: u8 = 0x42;

/// The standard input's file descriptor: the console's keyboard side.
pub const STDIN_FILENO: i32 = 0;
/// The standard output's file descriptor: the console.
pub const STDOUT_FILENO: i32 = 1;

/// A `write` to the console of up to this many bytes appears as one unit: no
/// other process's output falls inside it. A longer write is split into pieces
/// of this size, each one unit, and other processes' output may fall between
/// the pieces. Each unit is one exit to the VMM.
pub const CONSOLE_UNIT: usize = 64 * 1024;

/// Longest file name in the file system (Pintos `NAME_MAX`).
pub const NAME_MAX: usize = 14;

/// Longest command line accepted by `exec` and by the VMM for the initial
/// process, in bytes (without the terminating NUL).
pub const CMDLINE_MAX: usize = 512;

/// Most arguments in one command line (argv entries, program name included).
pub const ARGS_MAX: usize = 128;

/// Descriptor numbers of a process are `0..FD_MAX`: `open` takes the lowest
/// free one, `dup2` may use any of them (KAIST's dup2 tests use 0x1CE).
pub const FD_MAX: usize = 1024;

/// Kernel memory accounting, filled by [`SYS_MEMSTATS`].
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MemStats {
    /// User-pool frames in use.
    pub user_frames_used: u64,
    /// User-pool frames in total.
    pub user_frames_total: u64,
    /// Kernel-pool frames in use.
    pub kernel_frames_used: u64,
    /// Swap slots in use.
    pub swap_slots_used: u64,
    /// Swap slots in total (0 without a swap disk).
    pub swap_slots_total: u64,
    /// Live processes.
    pub processes: u64,
    /// Of `swap_slots_used`, the slots held only by the swap cache: pages
    /// read back from swap into memory keep their slot while unwritten, and
    /// give it back when the swap disk runs out.
    pub swap_slots_cached: u64,
}
