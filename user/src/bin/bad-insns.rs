//! `bad-insns`: user code that tries what only the kernel may: every
//! interrupt vector by `int N`, the PVM paravirtual entries (`int $0x1b`
//! hypercalls that would load an IDT, a CR3 or an MSR, halt or flush;
//! `int $0x19`/`$0x17` returns), port I/O to every device the VMM serves,
//! privileged instructions (`hlt`, `cli`, `mov cr3`, `wrmsr`, `lidt`,
//! `swapgs`, `sysretq`, ...), kernel segment selectors and an `iretq` to the
//! kernel's code segment. Each act runs in a child of its own. Those the
//! CPU or the kernel must refuse have to end their child with `exit(-1)`; a
//! few may be harmless on some hosts (a `vmmcall`, `int $0x1a` (the PVM
//! `cpuid`), an `int1`, a user `iretq` to user code, a `popf` that tries to
//! raise IOPL, a `syscall` or `wrgsbase` with a kernel address in a
//! register) and only have to leave the kernel intact. Then the kernel must
//! still work, with nothing leaked.
#![no_std]
#![no_main]

use core::arch::asm;
use ulib::{check, fail, health, msg, sys};

ulib::test_main!(body);

/// `int N` for one `N`: a branch per vector (the vector is part of the
/// instruction).
macro_rules! row {
    ($v:expr, $hi:literal, $($lo:literal)*) => {
        $( if $v == ($hi * 16 + $lo) {
            // SAFETY: the process exists to run this; the kernel ends it or
            // returns to the next instruction.
            unsafe { asm!(concat!("int ", stringify!($hi), "*16+", stringify!($lo)), options(nostack)) }
        } )*
    };
}

/// Raises interrupt vector `n` (0 to 255) from user mode.
fn int_n(n: u32) {
    row!(n, 0, 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15);
    row!(n, 1, 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15);
    row!(n, 2, 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15);
    row!(n, 3, 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15);
    row!(n, 4, 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15);
    row!(n, 5, 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15);
    row!(n, 6, 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15);
    row!(n, 7, 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15);
    row!(n, 8, 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15);
    row!(n, 9, 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15);
    row!(n, 10, 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15);
    row!(n, 11, 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15);
    row!(n, 12, 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15);
    row!(n, 13, 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15);
    row!(n, 14, 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15);
    row!(n, 15, 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15);
}

/// Acts that must end their process.
const REFUSED: [&str; 36] = [
    "hlt", "cli", "sti", "out80", "in80", "outexit", "outcons", "outmark", "outdbg", "inserial",
    "movcr3", "rdcr0", "rdmsr", "wrmsr", "lidt", "lgdt", "invlpg", "swapgs", "sysret", "ud2",
    "vmcall", "wbinvd", "clts", "xsetbv", "sysenter", "hc-flush", "hc-halt", "hc-cr3", "hc-idt",
    "hc-msr", "ret19", "ret17", "iret-kcs", "movss", "movds", "movfs",
];

/// Acts a host may let through harmlessly.
const TOLERATED: [&str; 8] = [
    "icebp",
    "vmmcall",
    "cpuid1a",
    "sys-rsp0",
    "sys-rspk",
    "iret-user",
    "popf-iopl",
    "wrgsbase",
];

/// The vector of `get_phys_addr`, which returns.
const GET_PHYS_ADDR: u32 = abi::syscall::GET_PHYS_ADDR_VECTOR as u32;
/// The PVM `cpuid` vector, which a PVM host serves from user mode too.
const PVM_CPUID: u32 = 0x1a;

/// Runs `act` in a child; returns the child's exit status.
fn in_child(act: impl FnOnce()) -> i32 {
    let pid = sys::fork(c"act");
    if pid == 0 {
        act();
        sys::exit(0);
    }
    if pid < 0 {
        fail!("cannot fork a child for an act");
    }
    sys::wait(pid)
}

/// Does `which` (a name from [`REFUSED`] or [`TOLERATED`]).
fn act(which: &str) {
    // SAFETY: the process exists to run this: the CPU or the kernel ends it,
    // or it returns with the registers the asm names as clobbered.
    unsafe {
        match which {
            "hlt" => asm!("hlt"),
            "cli" => asm!("cli"),
            "sti" => asm!("sti"),
            "out80" => asm!("out 0x80, al", in("al") 1u8),
            "in80" => asm!("in al, 0x80", out("al") _),
            "outexit" => asm!("out dx, eax", in("dx") 0x501u16, in("eax") 0u32),
            "outcons" => asm!("out dx, eax", in("dx") 0x502u16, in("eax") 0x1000u32),
            "outmark" => asm!("out dx, eax", in("dx") 0x505u16, in("eax") 1u32),
            "outdbg" => asm!("out dx, eax", in("dx") 0x506u16, in("eax") 1u32),
            "inserial" => asm!("in al, dx", in("dx") 0x3f8u16, out("al") _),
            "movcr3" => asm!("mov cr3, rax", in("rax") 0u64),
            "rdcr0" => asm!("mov rax, cr0", out("rax") _),
            "rdmsr" => asm!("rdmsr", in("ecx") 0xc000_0082u32, out("eax") _, out("edx") _),
            "wrmsr" => asm!("wrmsr", in("ecx") 0xc000_0082u32, in("eax") 0u32, in("edx") 0u32),
            "lidt" => asm!("sub rsp, 16", "lidt [rsp]", "add rsp, 16"),
            "lgdt" => asm!("sub rsp, 16", "lgdt [rsp]", "add rsp, 16"),
            "invlpg" => asm!("invlpg [rsp]"),
            "swapgs" => asm!("swapgs"),
            "sysret" => asm!("sysretq"),
            "ud2" => asm!("ud2"),
            "icebp" => asm!(".byte 0xf1"),
            "vmcall" => asm!("vmcall"),
            "vmmcall" => asm!("vmmcall"),
            "wbinvd" => asm!("wbinvd"),
            "clts" => asm!("clts"),
            "xsetbv" => asm!("xsetbv", in("ecx") 0u32, in("eax") 3u32, in("edx") 0u32),
            "sysenter" => asm!("sysenter"),
            "hc-flush" => asm!("int 0x1b", in("rax") 0x1007u64),
            "hc-halt" => asm!("int 0x1b", in("rax") 0x1009u64),
            "hc-cr3" => {
                asm!("push rbx", "xor ebx, ebx", "int 0x1b", "pop rbx", in("rax") 0x1001u64)
            }
            "hc-idt" => {
                asm!("push rbx", "xor ebx, ebx", "int 0x1b", "pop rbx", in("rax") 0x1005u64, in("rcx") 0u64)
            }
            "hc-msr" => {
                asm!("push rbx", "mov ebx, 0x830", "int 0x1b", "pop rbx", in("rax") 0x1003u64, in("rcx") 0u64)
            }
            "ret19" => asm!("int 0x19", in("rcx") 0u64, in("r11") 0u64),
            "ret17" => asm!("sub rsp, 64", "int 0x17", "add rsp, 64"),
            "cpuid1a" => {
                asm!("push rbx", "int 0x1a", "pop rbx", inout("eax") 0u32 => _, out("ecx") _, out("edx") _)
            }
            "sys-rsp0" => {
                asm!("mov r12, rsp", "xor esp, esp", "syscall", "mov rsp, r12", in("rax") 67u64, out("rcx") _, out("r11") _, out("r12") _)
            }
            "sys-rspk" => {
                asm!("mov r12, rsp", "mov rsp, {k}", "syscall", "mov rsp, r12", k = in(reg) 0xffff_ffff_8000_1000u64, in("rax") 67u64, out("rcx") _, out("r11") _, out("r12") _)
            }
            "iret-kcs" => asm!(
                "mov r12, rsp",
                "push 0x2b", "push r12", "pushfq", "push 0x10", "lea rax, [rip + 2f]", "push rax",
                "iretq", "2:", "mov rsp, r12",
                out("rax") _, out("r12") _),
            "iret-user" => asm!(
                "mov r12, rsp",
                "push 0x2b", "push r12", "pushfq", "push 0x33", "lea rax, [rip + 2f]", "push rax",
                "iretq", "2:", "mov rsp, r12",
                out("rax") _, out("r12") _),
            "popf-iopl" => asm!("pushfq", "or qword ptr [rsp], 0x3200", "popfq"),
            "movss" => asm!("mov ax, 0x10", "mov ss, ax", out("ax") _),
            "movds" => {
                asm!("mov ax, 0x18", "mov ds, ax", "mov ax, 0x2b", "mov ds, ax", out("ax") _)
            }
            "movfs" => asm!("mov ax, 0x40", "mov fs, ax", out("ax") _),
            "wrgsbase" => asm!("wrgsbase rax", in("rax") 0xffff_ffff_8000_0000u64),
            _ => {}
        }
    }
}

fn body(_args: &[&str]) {
    let let_through: usize = REFUSED
        .iter()
        .filter(|&&a| in_child(|| act(a)) != -1)
        .inspect(|a| msg!("{a} did not end its process"))
        .count();
    check!(
        let_through == 0,
        "{} privileged instructions each ended their process",
        REFUSED.len()
    );
    for a in TOLERATED {
        in_child(|| act(a));
    }
    msg!("{} doubtful ones left the kernel intact", TOLERATED.len());
    let vectors_through: usize = (0..256)
        .filter(|&n| n != GET_PHYS_ADDR && n != PVM_CPUID)
        .filter(|&n| in_child(|| int_n(n)) != -1)
        .inspect(|n| msg!("int {n} did not end its process"))
        .count();
    in_child(|| int_n(PVM_CPUID));
    check!(
        vectors_through == 0,
        "every interrupt vector but get_phys_addr and the PVM cpuid ended its process"
    );
    health::still_works();
}
