//! `sys-fuzz`: children make hundreds of system calls each with arguments
//! shaped like the call's own (names, buffers, lengths, descriptors) but
//! drawn from hostile values as well as valid ones: NULL, unmapped, kernel,
//! non-canonical and read-only addresses, buffers that run off the end of
//! mapped memory, strings with no terminator, huge lengths, bad descriptors;
//! and call numbers that are unassigned or absurd. Each child has its own
//! seed and share of hostile values, from none (it must live through every
//! call) to most (it is killed within a few). A child closes its console
//! descriptors first (nothing it does can print or wait for input), forks
//! only children that exit at once, never halts, and gives `exec` only
//! names it cannot read. The kernel must neither panic nor hang nor leak,
//! and works afterwards.
#![no_std]
#![no_main]

use abi::layout::{KERNEL_VIRT_BASE, PAGE_SIZE, USER_LIMIT, USER_STACK};
use abi::syscall::*;
use ulib::vmtest::Rng;
use ulib::{check, fail, health, msg, sys};

ulib::test_main!(body);

/// Children, one after another, each with its own seed.
const CHILDREN: u64 = 30;
/// System calls each child makes (unless a hostile value ends it first).
const CALLS: usize = 500;
/// Bytes of the buffer the calls read into and write from.
const BUF_LEN: usize = 2 * PAGE_SIZE as usize;
/// Hostile values per thousand, by child (`seed % 5`).
const HOSTILITY: [usize; 5] = [0, 5, 20, 100, 500];

/// A writable buffer the calls may read into and write from.
static mut BUF: [u8; BUF_LEN] = [0; BUF_LEN];

/// Names the calls may use: a file they may create, the file the test puts
/// on the disk, an empty name and one longer than a file name may be. None
/// names an executable.
const NAMES: [&core::ffi::CStr; 4] = [
    c"fuzz.dat",
    c"sample.txt",
    c"",
    c"a-name-far-longer-than-fourteen-bytes",
];

/// The shape of one argument.
#[derive(Clone, Copy)]
enum Arg {
    /// Any number.
    Int,
    /// A buffer the kernel reads or writes.
    Buf,
    /// A string the kernel reads.
    Name,
    /// A string that must be unreadable (`exec`'s: see the module doc).
    BadName,
    /// A descriptor.
    Fd,
    /// A length, size or offset.
    Len,
}

/// The call numbers and their arguments' shapes: every assigned call but
/// `halt`, then unassigned and absurd numbers.
const CALLS_BY_SHAPE: [(u64, &[Arg]); 27] = {
    use Arg::*;
    [
        (SYS_EXIT, &[Int]),
        (SYS_FORK, &[Name]),
        (SYS_EXEC, &[BadName]),
        (SYS_WAIT, &[Int]),
        (SYS_CREATE, &[Name, Len]),
        (SYS_REMOVE, &[Name]),
        (SYS_OPEN, &[Name]),
        (SYS_OPEN, &[Name]),
        (SYS_FILESIZE, &[Fd]),
        (SYS_READ, &[Fd, Buf, Len]),
        (SYS_WRITE, &[Fd, Buf, Len]),
        (SYS_SEEK, &[Fd, Len]),
        (SYS_TELL, &[Fd]),
        (SYS_CLOSE, &[Fd]),
        (SYS_MMAP, &[Buf, Len, Int, Fd, Len]),
        (SYS_MUNMAP, &[Buf]),
        (SYS_DUP2, &[Fd, Fd]),
        (SYS_MEMSTATS, &[Buf]),
        (SYS_TSC_KHZ, &[]),
        (SYS_READDIR, &[Len, Buf]),
        (SYS_NULL, &[]),
        (SYS_KSTATS, &[Buf]),
        (SYS_TRAP_BENCH, &[Int]),
        (SYS_YIELD, &[]),
        (16, &[Int, Int, Int]),
        (1000, &[Int, Int, Int]),
        (u64::MAX, &[Int, Int, Int]),
    ]
};

/// An address no user string or buffer can be read at.
fn bad_pointer(rng: &mut Rng) -> u64 {
    match rng.below(6) {
        0 => 0,
        1 => KERNEL_VIRT_BASE + rng.below(1 << 20) as u64,
        2 => 0xffff_8000_0000_0000 + (rng.below(1 << 16) as u64) * PAGE_SIZE,
        3 => 0x0000_8000_0000_0000 - rng.below(8) as u64,
        4 => USER_LIMIT - rng.below(3) as u64 * PAGE_SIZE,
        _ => u64::MAX - rng.below(4096) as u64,
    }
}

/// One argument of shape `arg`: hostile with `hostile` chances in 1000.
/// `buf` is the child's writable buffer.
fn argument(rng: &mut Rng, arg: Arg, hostile: usize, buf: u64) -> u64 {
    let bad = rng.below(1000) < hostile;
    match (arg, bad) {
        (Arg::Int, _) => match rng.below(6) {
            0 => 0,
            1 => u64::MAX,
            2 => rng.below(64) as u64,
            3 => i32::MIN as u32 as u64,
            4 => rng.below(1 << 16) as u64,
            _ => rng.next_u64(),
        },
        (Arg::Buf, false) => buf + rng.below(BUF_LEN / 2) as u64,
        (Arg::Buf, true) => match rng.below(5) {
            // The buffer's last bytes: a length runs off into what follows.
            0 => buf + BUF_LEN as u64 - 1 - rng.below(16) as u64,
            // Code: readable, not writable.
            1 => body as *const () as u64,
            // A user address well below the stack, never mapped.
            2 => USER_STACK - (64 << 20),
            _ => bad_pointer(rng),
        },
        (Arg::Name, false) => NAMES[rng.below(NAMES.len())].as_ptr() as u64,
        (Arg::Name, true) | (Arg::BadName, _) => bad_pointer(rng),
        (Arg::Fd, _) => match rng.below(8) {
            0 => u64::MAX,
            1 => 1023 + rng.below(3) as u64,
            2 => i32::MIN as u32 as u64,
            3 => rng.next_u64(),
            _ => rng.below(8) as u64,
        },
        // Within the half of the buffer past any valid start.
        (Arg::Len, false) => match rng.below(4) {
            0 => 0,
            1 => 1,
            _ => rng.below(BUF_LEN / 2) as u64,
        },
        (Arg::Len, true) => match rng.below(5) {
            0 => u64::MAX,
            1 => 0x7fff_ffff,
            2 => u32::MAX as u64,
            3 => 1 << (32 + rng.below(30)),
            _ => BUF_LEN as u64 + rng.below(1 << 20) as u64,
        },
    }
}

/// Makes the child's calls; returns normally if none ended it.
fn fuzz(seed: u64) {
    let buf = core::ptr::addr_of_mut!(BUF) as u64;
    let hostile = HOSTILITY[(seed % HOSTILITY.len() as u64) as usize];
    sys::close(0);
    sys::close(1);
    let mut rng = Rng::new(seed);
    for _ in 0..CALLS {
        let (nr, shape) = CALLS_BY_SHAPE[rng.below(CALLS_BY_SHAPE.len())];
        // A child with no hostile values lives through all its calls:
        // `exit` would end it, and `exec` only gets unreadable names.
        let ends = nr == SYS_EXIT || nr == SYS_EXEC;
        if ends && (hostile == 0 || rng.below(16) != 0) {
            continue;
        }
        let mut args = [0u64; 6];
        for (a, &arg) in args.iter_mut().zip(shape) {
            *a = argument(&mut rng, arg, hostile, buf);
        }
        // A forked child's exit line carries its name: a readable one is
        // always the same, which the test can tell from the kernel's lines.
        if nr == SYS_FORK && NAMES.iter().any(|n| n.as_ptr() as u64 == args[0]) {
            args[0] = c"fuzz-fork".as_ptr() as u64;
        }
        let ret = sys::syscall6(nr, args[0], args[1], args[2], args[3], args[4], args[5]);
        if nr == SYS_FORK && ret == 0 {
            sys::exit(0);
        }
    }
}

/// Most children running at once.
const AT_ONCE_MAX: usize = 16;

/// `sys-fuzz [FIRST [CHILDREN [AT-ONCE]]]`: the children's seeds are FIRST,
/// FIRST + 1, ... (0 and 30 by default; other values explore further), run
/// AT-ONCE at a time (1 by default, at most 16: the calls of several
/// processes then interleave, and their locks meet).
fn body(args: &[&str]) {
    let number = |i: usize, default: u64| {
        args.get(i)
            .map_or(Some(default), |a| a.parse().ok())
            .unwrap_or_else(|| fail!("usage: sys-fuzz [FIRST [CHILDREN [AT-ONCE]]]"))
    };
    let (first, children) = (number(1, 0), number(2, CHILDREN));
    let at_once = (number(3, 1) as usize).clamp(1, AT_ONCE_MAX);
    let end = first.saturating_add(children);
    let mut survivors = 0;
    let mut seed = first;
    while seed < end {
        let mut pids = [0; AT_ONCE_MAX];
        let mut forked = 0;
        while forked < at_once && seed < end {
            let pid = sys::fork(c"fuzz-child");
            if pid == 0 {
                fuzz(seed);
                sys::exit(0);
            }
            if pid < 0 {
                // The process table is full of the running children's
                // children (they wait for few of them): finish this batch.
                break;
            }
            pids[forked] = pid;
            forked += 1;
            seed += 1;
        }
        if forked == 0 {
            fail!("cannot fork fuzz child {seed}");
        }
        survivors += pids[..forked]
            .iter()
            .filter(|&&pid| sys::wait(pid) == 0)
            .count() as u64;
    }
    msg!("{children} children made up to {CALLS} system calls each, some hostile");
    check!(
        survivors > 0 && survivors < children,
        "some children lived through every call, some were killed"
    );
    sys::remove(c"fuzz.dat");
    health::still_works();
}
