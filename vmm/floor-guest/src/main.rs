//! The floor guest: a minimal kernel, booted by `faultline --kernel` like the
//! real one, that measures what the host charges for the events every fault
//! and system call of the real kernel is built from, so that `cargo xtask
//! bench` can compare the real kernel with them in the same run:
//!
//! - a null hypercall (PVM guest mode only; hypercall 0x1008, the flush of
//!   a page that is not mapped), timed in ring 0;
//! - an exit to the VMM process: a write to port 0x80 (ignored by the VMM)
//!   and a write to the first virtio device's DeviceFeaturesSel register
//!   (a selector, so the write changes nothing else), timed in ring 0: the
//!   cost every virtio request and console write pays;
//! - an `int3` round trip from user mode to a handler that only returns;
//! - a user page fault whose handler writes the page-table entry and returns
//!   (the access then retries and succeeds);
//! - the first touch of a page that is already mapped (only the hypervisor's
//!   shadow page-table fill);
//! - a null system call (PVM guest mode only: in the emulated native mode of
//!   PVM hosts `syscall` does not raise privilege).
//!
//! The command line is `floor N`: N repetitions of each (at most
//! [`user::MAX_PAGES`] for the two page kinds). Output, one line each:
//! `floor: KIND N times, C cycles each` (KIND: `hypercall`, `port-exit`,
//! `mmio-exit`, `int3`,
//! `page-fault`, `shadow-fill`, `syscall`), then exit status 0; any unexpected
//! exception prints `floor: unexpected exception` and exits with 1.
#![no_std]
#![no_main]

mod cpu;
mod user;

use core::fmt::Write;

use abi::boot::{BootInfo, CpuMode};
use abi::device::{CONSOLE_PORT, ConsoleWrite, EXIT_PORT};
use abi::layout::{DIRECT_MAP_BASE, KERNEL_VIRT_BASE};

/// The faultline kernel note (`abi::marker`): the VMM boots only an ELF that
/// carries it (kept by the kernel's linker script).
#[used]
#[unsafe(link_section = ".note.faultline")]
static FAULTLINE_NOTE: abi::marker::KernelNote = abi::marker::KERNEL_NOTE;

/// The boot and kernel stack (the TSS sends user-mode events here too).
#[repr(C, align(4096))]
pub struct Stack(pub [u8; STACK_SIZE]);
/// Bytes of [`STACK`].
pub const STACK_SIZE: usize = 16384;
/// The one stack: `_start` points `rsp` at its top.
#[unsafe(no_mangle)]
pub static mut STACK: Stack = Stack([0; STACK_SIZE]);

core::arch::global_asm!(
    ".section .text.boot, \"ax\"",
    ".global _start",
    "_start:",
    "lea rsp, [rip + {stack} + {size}]",
    "xor ebp, ebp",
    "call {main}",
    "2: hlt",
    "jmp 2b",
    stack = sym STACK,
    size = const STACK_SIZE,
    main = sym floor_main,
);

/// Guest-physical address of a kernel-image address.
pub fn image_phys(va: u64) -> u64 {
    va - KERNEL_VIRT_BASE
}

/// Kernel address of guest-physical `pa` (the direct map).
pub fn phys_virt(pa: u64) -> u64 {
    DIRECT_MAP_BASE + pa
}

/// A line buffer for the console.
struct Line {
    buf: [u8; 128],
    len: usize,
}

impl Write for Line {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let n = s.len().min(self.buf.len() - self.len);
        self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}

/// Prints `args` and a newline on the console.
pub fn print(args: core::fmt::Arguments) {
    let mut line = Line {
        buf: [0; 128],
        len: 0,
    };
    let _ = line.write_fmt(args);
    let _ = line.write_str("\n");
    let desc = ConsoleWrite {
        addr: image_phys(line.buf.as_ptr() as u64),
        len: line.len as u64,
    };
    cpu::outl(CONSOLE_PORT, image_phys(&desc as *const _ as u64) as u32);
}

/// Ends the VM with `status`.
pub fn exit(status: i32) -> ! {
    cpu::outl(
        EXIT_PORT,
        abi::exit::encode(abi::exit::KIND_PROGRAM, status),
    );
    loop {
        core::hint::spin_loop();
    }
}

/// One `floor:` result line.
pub fn report(kind: &str, n: u64, cycles: u64) {
    print(format_args!(
        "floor: {kind} {n} times, {} cycles each",
        cycles / n.max(1)
    ));
}

/// The repetitions asked for on the command line (`floor N`), at least 1.
fn repetitions(boot: &BootInfo) -> u64 {
    let len = (boot.cmdline_len as usize).min(abi::syscall::CMDLINE_MAX);
    // SAFETY: the VMM wrote `cmdline_len` bytes at `cmdline_addr`, inside
    // guest RAM, which the direct map covers; nothing writes them.
    let line =
        unsafe { core::slice::from_raw_parts(phys_virt(boot.cmdline_addr) as *const u8, len) };
    let arg = line.split(|&b| b == b' ').nth(1).unwrap_or(b"100");
    core::str::from_utf8(arg)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100u64)
        .max(1)
}

extern "C" fn floor_main(boot_pa: u64) -> ! {
    // SAFETY: the VMM put a BootInfo at this guest-physical address, which
    // the direct map covers; the guest never writes it.
    let boot: &BootInfo = unsafe { &*(phys_virt(boot_pa) as *const BootInfo) };
    if boot.magic != abi::boot::BOOT_MAGIC {
        exit(1);
    }
    let pvm = boot.mode() == Some(CpuMode::Pvm);
    let n = repetitions(boot);
    cpu::init(pvm, boot.vif_page);
    print(format_args!(
        "floor: mode {}",
        if pvm { "pvm" } else { "native" }
    ));
    if pvm {
        report("hypercall", n, cpu::time_hypercalls(n));
    }
    report("port-exit", n, cpu::time_port_exits(n));
    if boot.n_devices > 0 {
        // DeviceFeaturesSel (virtio-mmio offset 0x14).
        let va = phys_virt(boot.devices[0].mmio_base) + 0x14;
        report("mmio-exit", n, cpu::time_mmio_exits(n, va));
    }
    user::run(boot, pvm, n)
}

/// Where the user part ends (`ud2`): prints its results and exits.
pub extern "C" fn after_user() -> ! {
    user::report_results();
    exit(0)
}

/// Any other exception.
pub extern "C" fn unexpected() -> ! {
    print(format_args!("floor: unexpected exception"));
    exit(1)
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    print(format_args!("floor: panic"));
    exit(1)
}
