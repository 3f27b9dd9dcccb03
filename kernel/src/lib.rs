//! The faultline kernel: a Pintos-compatible x86-64 kernel that runs as a KVM
//! guest of the faultline VMM.
//!
//! Boot order ([`kmain`]): CPU tables and traps ([`arch`]), physical frame pools
//! and the heap ([`mm`]), threads ([`sched`]), the LAPIC timer, the virtio block
//! devices ([`dev`]), the file system ([`fs`]), then the initial user process
//! ([`userprog`]); when it ends the kernel powers the VM off with its status.
//! A file-system disk that cannot be mounted is reported on the console and
//! ends the VM with [`abi::exit::KIND_BAD_DISK`] (never a panic).
//!
//! The library builds for the host too, so that pure logic is unit-tested with
//! `cargo test --manifest-path kernel/Cargo.toml --lib` (part of `cargo xtask
//! test`); only the binary runs in the guest.
#![cfg_attr(not(test), no_std)]

extern crate alloc;

pub mod arch;
#[macro_use]
pub mod console;
pub mod dev;
pub mod fs;
pub mod mm;
pub mod panic;
pub mod profile;
pub mod sched;
pub mod sync;
pub mod userprog;
pub mod vm;

/// Size of the stack `_start` runs `kmain` on.
pub const BOOT_STACK_SIZE: usize = 64 * 1024;

/// The boot stack (it stays the stack of the boot thread, which becomes the
/// thread that waits for the initial process).
#[repr(C, align(4096))]
pub struct BootStack(pub [u8; BOOT_STACK_SIZE]);

/// The boot stack itself; `_start` points `rsp` at its top.
#[unsafe(no_mangle)]
pub static mut BOOT_STACK: BootStack = BootStack([0; BOOT_STACK_SIZE]);

static BOOT_TSC: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);

/// TSC at kernel entry.
pub fn boot_tsc() -> u64 {
    BOOT_TSC.load(core::sync::atomic::Ordering::Relaxed)
}

/// Kernel entry, called by `_start` on the boot stack with the guest-physical
/// address of the [`abi::boot::BootInfo`].
pub extern "C" fn kmain(boot_info_pa: u64) -> ! {
    BOOT_TSC.store(arch::rdtsc(), core::sync::atomic::Ordering::Relaxed);
    let boot = mm::boot::info(boot_info_pa);
    let Some(mode) = boot.mode() else {
        panic!("unknown CPU mode {}", boot.cpu_mode);
    };
    arch::init(mode, boot);
    arch::mark(abi::device::Marker::KernelEntry);
    profile::init(boot);
    mm::init(boot);
    console::publish();
    arch::paging::init_kernel_root();
    sched::init();
    arch::timer::init(boot.tsc_khz);
    if let Err(e) = dev::init(boot) {
        panic!("block devices: {e:?}");
    }
    if let Err(e) = fs::init() {
        refuse_disk(e);
    }
    vm::init();
    let cmdline = mm::boot::cmdline(boot);
    let status = userprog::run_initial(cmdline);
    arch::power_off(status)
}

/// Ends the VM because the file-system disk cannot be mounted (a bad image, a
/// disk error, no room for the directory): says why on the console, then
/// writes the exit port with [`abi::exit::KIND_BAD_DISK`], which the VMM
/// reports as status 252.
fn refuse_disk(e: fs::MountError) -> ! {
    kprintln!("faultline: cannot mount the file system: {e}");
    arch::cpu::intr_disable();
    arch::cpu::outl(
        abi::device::EXIT_PORT,
        abi::exit::encode(abi::exit::KIND_BAD_DISK, 0),
    );
    loop {
        arch::cpu::halt_forever_step();
    }
}
