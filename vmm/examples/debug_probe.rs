//! What `KVM_SET_GUEST_DEBUG` does on this host, in both CPU modes.
//!
//! `cargo run -p faultline-vmm --example debug_probe` boots a tiny hand-assembled
//! guest once per experiment (fresh VM each time) and prints one line per
//! experiment: how the vCPU stopped. The experiments cover what a debugger
//! needs, in ring 0 and ring 3, in the native x86 mode and (on PVM hosts) in
//! the PVM guest mode:
//!
//! - `int3` with `KVM_GUESTDBG_USE_SW_BP` (does KVM report `KVM_EXIT_DEBUG`?);
//! - `KVM_GUESTDBG_SINGLESTEP` (one exit per instruction?);
//! - `KVM_GUESTDBG_USE_HW_BP` with an execute breakpoint and a write watchpoint;
//! - without guest debugging: the guest's own `int3` and its own trap flag
//!   (does the guest's IDT handler for #BP / #DB run?).
//!
//! The guest: ring-0 code at `K = 0xffff_ffff_8020_0000` (guest-physical
//! 0x200000), user code at 0x300000, an IDT whose 32 exception stubs report
//! `out 0x5f0` with the vector in eax and the first four words of the
//! exception frame in rbx, rcx, rsi, rdi. docs/DEBUGGING.md records a run.

use std::fmt::Write as _;

use anyhow::{Context, Result};
use kvm_bindings::{
    KVM_GUESTDBG_ENABLE, KVM_GUESTDBG_SINGLESTEP, KVM_GUESTDBG_USE_HW_BP, KVM_GUESTDBG_USE_SW_BP,
    kvm_guest_debug, kvm_guest_debug_arch,
};
use kvm_ioctls::{Kvm, VcpuExit, VcpuFd};
use vm_memory::{Bytes, GuestAddress};
use vmm::memory::{self, GuestMem};

const K: u64 = 0xffff_ffff_8020_0000;
const K_PHYS: u64 = 0x20_0000;
const USER: u64 = 0x30_0000;
const IDT_PHYS: u64 = 0x5000;
const TSS_PHYS: u64 = 0x6000;
const PROBE_PORT: u16 = 0x5f0;
const EXIT_PORT: u16 = abi::device::EXIT_PORT;
const MEM: u64 = 16 << 20;

/// Ring-0 entry points (offsets from K).
const R0_INT3: u64 = 0x00;
const R0_STEP: u64 = 0x40;
const R0_WATCH: u64 = 0x80;
const R0_TF: u64 = 0xc0;
const TO_USER_NATIVE: u64 = 0x100;
const TO_USER_PVM: u64 = 0x140;
const R0_HW: u64 = 0x180;
/// `jmp TO_USER_NATIVE` or, patched for the PVM mode, `jmp TO_USER_PVM`.
const TO_USER: u64 = 0x1c0;
const STUBS: u64 = 0x200;
/// The guest programs its own debug registers, then jumps to R0_HW, R0_WATCH
/// or (through the return to user) U_HW, U_WATCH.
const OWN_DR: [u64; 4] = [0x500, 0x540, 0x580, 0x5c0];
const COMMON: u64 = 0x400;
/// Ring-0 data written by R0_WATCH.
const R0_DATA: u64 = K + 0xf00;
/// User entry points (offsets from USER) and the user data written by U_WATCH.
const U_INT3: u64 = 0x00;
const U_STEP: u64 = 0x20;
const U_WATCH: u64 = 0x40;
const U_TF: u64 = 0x60;
const U_HW: u64 = 0x80;
const U_DATA: u64 = 0x37_ff00;

/// `mov eax, 0x01000000; mov dx, 0x501; out dx, eax; hlt`: exit(0).
const DONE: [u8; 11] = [
    0xb8, 0x00, 0x00, 0x00, 0x01, 0x66, 0xba, 0x01, 0x05, 0xef, 0xf4,
];
/// `pushfq; or qword [rsp], 0x100; popfq`: set the trap flag.
const SET_TF: [u8; 10] = [0x9c, 0x48, 0x81, 0x0c, 0x24, 0x00, 0x01, 0x00, 0x00, 0x9d];
const NOP: u8 = 0x90;
const INT3: u8 = 0xcc;
const UD2: [u8; 2] = [0x0f, 0x0b];

/// The ring-0 code page.
fn kernel_code() -> Vec<u8> {
    let mut c = vec![0u8; 0x1000];
    let mut put = |at: u64, bytes: &[u8]| {
        c[at as usize..at as usize + bytes.len()].copy_from_slice(bytes);
    };
    put(R0_INT3, &[INT3, NOP, NOP]);
    put(R0_INT3 + 3, &DONE);
    put(R0_STEP, &[NOP, NOP, NOP]);
    put(R0_STEP + 3, &DONE);
    // movabs rax, R0_DATA; mov qword [rax], 0x1234; nop; nop
    let mut w = vec![0x48, 0xb8];
    w.extend(R0_DATA.to_le_bytes());
    w.extend([0x48, 0xc7, 0x00, 0x34, 0x12, 0x00, 0x00, NOP, NOP]);
    w.extend(DONE);
    put(R0_WATCH, &w);
    let mut t = SET_TF.to_vec();
    t.extend([NOP, NOP, NOP]);
    t.extend(DONE);
    put(R0_TF, &t);
    // push 0x2b; push 0x380000; push 0x202; push 0x33; push rdi
    let frame = [
        0x6a, 0x2b, 0x68, 0x00, 0x00, 0x38, 0x00, 0x68, 0x02, 0x02, 0x00, 0x00, 0x6a, 0x33, 0x57,
    ];
    let mut n = frame.to_vec();
    n.extend([0x48, 0xcf]); // iretq
    put(TO_USER_NATIVE, &n);
    let mut p = frame.to_vec();
    p.extend([0xcd, 0x17]); // int $0x17: the PVM return to user
    put(TO_USER_PVM, &p);
    let rel = (TO_USER_NATIVE as i64 - (TO_USER as i64 + 5)) as i32;
    let mut j = vec![0xe9];
    j.extend(rel.to_le_bytes());
    put(TO_USER, &j);
    put(R0_HW, &[NOP, NOP, NOP, NOP]);
    put(R0_HW + 4, &DONE);
    for v in 0..32u64 {
        // mov eax, v; jmp COMMON
        let at = STUBS + 16 * v;
        let rel = (COMMON as i64 - (at as i64 + 10)) as i32;
        let mut s = vec![0xb8];
        s.extend((v as u32).to_le_bytes());
        s.push(0xe9);
        s.extend(rel.to_le_bytes());
        put(at, &s);
    }
    for (i, (target, reg, dr7, then)) in own_dr_setups().into_iter().enumerate() {
        // movabs rax, target; mov drN, rax; movabs rax, dr7; mov dr7, rax; jmp then
        let at = OWN_DR[i];
        let mut s = vec![0x48, 0xb8];
        s.extend(target.to_le_bytes());
        s.extend([0x0f, 0x23, 0xc0 | (reg << 3)]);
        s.extend([0x48, 0xb8]);
        s.extend(dr7.to_le_bytes());
        s.extend([0x0f, 0x23, 0xf8]);
        let rel = (then as i64 - (at as i64 + s.len() as i64 + 5)) as i32;
        s.push(0xe9);
        s.extend(rel.to_le_bytes());
        put(at, &s);
    }
    // mov rbx, [rsp]; mov rcx, [rsp+8]; mov rsi, [rsp+16]; mov rdi, [rsp+24];
    // mov dx, 0x5f0; out dx, eax; hlt
    put(
        COMMON,
        &[
            0x48, 0x8b, 0x1c, 0x24, 0x48, 0x8b, 0x4c, 0x24, 0x08, 0x48, 0x8b, 0x74, 0x24, 0x10,
            0x48, 0x8b, 0x7c, 0x24, 0x18, 0x66, 0xba, 0xf0, 0x05, 0xef, 0xf4,
        ],
    );
    c
}

/// DR7: L0 (execute, length 1), and L1 with R/W1 = write, LEN1 = 8 bytes.
const EXEC_DR7: u64 = 0x1 | (1 << 10);
const WRITE_DR7: u64 = 0x4 | (0b01 << 20) | (0b10 << 22) | (1 << 10);

/// The guest's own debug-register setups: (address, DR index, DR7, where to
/// jump next). The user ones jump to the native return to user; the PVM
/// experiments patch that (see [`run`]).
fn own_dr_setups() -> [(u64, u8, u64, u64); 4] {
    [
        (K + R0_HW + 2, 0, EXEC_DR7, R0_HW),
        (R0_DATA, 1, WRITE_DR7, R0_WATCH),
        (USER + U_HW + 2, 0, EXEC_DR7, TO_USER),
        (U_DATA, 1, WRITE_DR7, TO_USER),
    ]
}

/// The user code page (each piece ends in `ud2`, which traps to the IDT).
fn user_code() -> Vec<u8> {
    let mut c = vec![0u8; 0x100];
    let mut put = |at: u64, bytes: &[u8]| {
        c[at as usize..at as usize + bytes.len()].copy_from_slice(bytes);
    };
    put(U_INT3, &[INT3, NOP, NOP, UD2[0], UD2[1]]);
    put(U_STEP, &[NOP, NOP, NOP, UD2[0], UD2[1]]);
    // mov rax, U_DATA; mov qword [rax], 0x1234; nop; ud2
    put(
        U_WATCH,
        &[
            0x48, 0xc7, 0xc0, 0x00, 0xff, 0x37, 0x00, 0x48, 0xc7, 0x00, 0x34, 0x12, 0x00, 0x00,
            NOP, UD2[0], UD2[1],
        ],
    );
    let mut t = SET_TF.to_vec();
    t.extend([NOP, NOP, NOP, UD2[0], UD2[1]]);
    put(U_TF, &t);
    put(U_HW, &[NOP, NOP, NOP, NOP, UD2[0], UD2[1]]);
    c
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    Native,
    Pvm,
}

/// One experiment: where it starts, which guest debugging it turns on.
struct Experiment {
    name: &'static str,
    /// Ring-0 entry (offset from K), or a user entry (offset from USER).
    ring0: Option<u64>,
    user: Option<u64>,
    control: u32,
    debugreg: [u64; 8],
}

fn w64(mem: &GuestMem, pa: u64, v: u64) -> Result<()> {
    mem.write_obj(v, GuestAddress(pa))
        .context("writing guest memory")
}

/// Builds a VM for `mode` with the probe guest; returns the vCPU (and keeps
/// the VM and memory alive in the returned tuple).
fn build(kvm: &Kvm, mode: Mode) -> Result<(kvm_ioctls::VmFd, GuestMem, VcpuFd)> {
    let vm = kvm.create_vm().context("KVM_CREATE_VM")?;
    let mem = memory::create(MEM)?;
    memory::register(&vm, &mem)?;
    vm.create_irq_chip().context("KVM_CREATE_IRQCHIP")?;
    let vcpu = vm.create_vcpu(0).context("KVM_CREATE_VCPU")?;
    // User-accessible everywhere, so ring 3 can run the user page in both modes.
    let pml4 = vmm::boot::write_page_tables(&mem, MEM, true)?;
    // The user half of the PVM page-table pair maps the low GiB too.
    let low = mem.read_obj::<u64>(GuestAddress(pml4))?;
    w64(&mem, pml4 + 0x1000, low)?;
    vmm::boot::write_gdt(&mem)?;
    let mut code = kernel_code();
    if mode == Mode::Pvm {
        let rel = (TO_USER_PVM as i64 - (TO_USER as i64 + 5)) as i32;
        code[TO_USER as usize + 1..TO_USER as usize + 5].copy_from_slice(&rel.to_le_bytes());
    }
    mem.write_slice(&code, GuestAddress(K_PHYS))?;
    mem.write_slice(&user_code(), GuestAddress(USER))?;
    // IDT: 32 interrupt gates to the stubs, callable from ring 3.
    for v in 0..32u64 {
        let addr = K + STUBS + 16 * v;
        let lo = (addr & 0xffff)
            | (u64::from(abi::layout::gdt::KERNEL_CS) << 16)
            | (0xeeu64 << 40)
            | ((addr >> 16) & 0xffff) << 48;
        w64(&mem, IDT_PHYS + 16 * v, lo)?;
        w64(&mem, IDT_PHYS + 16 * v + 8, addr >> 32)?;
    }
    // TSS: RSP0 in the upper half.
    w64(&mem, TSS_PHYS + 4, K + 0x9000)?;
    vmm::cpuid::setup(kvm, &vcpu)?;
    let mut sregs = vcpu.get_sregs()?;
    vmm::boot::set_long_mode(&mut sregs, pml4);
    sregs.idt.base = abi::layout::KERNEL_VIRT_BASE + IDT_PHYS;
    sregs.idt.limit = 32 * 16 - 1;
    sregs.tr.base = abi::layout::KERNEL_VIRT_BASE + TSS_PHYS;
    vcpu.set_sregs(&sregs)?;
    vmm::boot::enable_x2apic(&vcpu)?;
    if mode == Mode::Pvm {
        vmm::pvm::register_vif(&vcpu, abi::layout::phys::VIF_PAGE)?;
    }
    Ok((vm, mem, vcpu))
}

/// Runs one experiment and describes how it went.
fn run(kvm: &Kvm, mode: Mode, e: &Experiment) -> Result<String> {
    let (_vm, _mem, mut vcpu) = build(kvm, mode)?;
    let mut regs = vmm::boot::entry_regs(0);
    regs.rsp = K + 0x8000;
    match (e.ring0, e.user) {
        (Some(off), user) => {
            regs.rip = K + off;
            regs.rdi = user.map_or(0, |u| USER + u);
        }
        (None, Some(off)) => {
            regs.rip = K + if mode == Mode::Pvm {
                TO_USER_PVM
            } else {
                TO_USER_NATIVE
            };
            regs.rdi = USER + off;
        }
        (None, None) => unreachable!("an experiment starts somewhere"),
    }
    vcpu.set_regs(&regs)?;
    if e.control != 0 {
        let dbg = kvm_guest_debug {
            control: e.control,
            pad: 0,
            arch: kvm_guest_debug_arch {
                debugreg: e.debugreg,
            },
        };
        if let Err(err) = vcpu.set_guest_debug(&dbg) {
            return Ok(format!("KVM_SET_GUEST_DEBUG refused: {err}"));
        }
    }
    let mut out = String::new();
    for _ in 0..12 {
        let exit = vcpu.run();
        match exit {
            Ok(VcpuExit::Debug(d)) => {
                let _ = write!(
                    out,
                    "DEBUG(exc {} pc {} dr6 {:#x}) ",
                    d.exception,
                    name(d.pc),
                    d.dr6
                );
                continue;
            }
            Ok(VcpuExit::IoOut(port, data)) => {
                let v = u32::from_le_bytes(data.try_into().unwrap_or([0; 4]));
                if port == PROBE_PORT {
                    let r = vcpu.get_regs()?;
                    let _ = write!(
                        out,
                        "guest handler for vector {v} (frame {} {:#x} {:#x} {:#x})",
                        name(r.rbx),
                        r.rcx,
                        r.rsi,
                        r.rdi
                    );
                } else if port == EXIT_PORT {
                    out += "ran to the end";
                } else {
                    let _ = write!(out, "out {port:#x}");
                }
            }
            Ok(VcpuExit::Shutdown) => out += "triple fault",
            Ok(VcpuExit::InternalError) => out += "KVM internal error",
            Ok(VcpuExit::Hlt) => out += "hlt",
            Ok(other) => {
                let _ = write!(out, "exit {other:?}");
            }
            Err(err) => {
                let _ = write!(out, "KVM_RUN error {err}");
            }
        }
        return Ok(out);
    }
    out += "... (stopped after 12 exits)";
    Ok(out)
}

/// `K+0x41` or `U+0x2` for an address in the probe's code.
fn name(a: u64) -> String {
    if (K..K + 0x1000).contains(&a) {
        format!("K+{:#x}", a - K)
    } else if (USER..USER + 0x1000).contains(&a) {
        format!("U+{:#x}", a - USER)
    } else {
        format!("{a:#x}")
    }
}

fn main() -> Result<()> {
    let kvm = Kvm::new().context("opening /dev/kvm")?;
    let dbg2 = kvm.check_extension_int(kvm_ioctls::Cap::SetGuestDebug);
    println!("KVM_CAP_SET_GUEST_DEBUG = {dbg2}");
    // KVM_CAP_SET_GUEST_DEBUG2 (195) lists the supported control bits.
    // SAFETY: KVM_CHECK_EXTENSION only reads its integer argument.
    let mask = unsafe { libc::ioctl(std::os::fd::AsRawFd::as_raw_fd(&kvm), 0xae03, 195) };
    println!("KVM_CAP_SET_GUEST_DEBUG2 = {mask:#x}");
    let pvm = vmm::pvm::detect_pvm(&kvm)?;
    println!("PVM host: {pvm}");

    let sw = KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_SW_BP;
    let step = KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP;
    let hw = KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_HW_BP;
    let (exec_dr7, write_dr7) = (EXEC_DR7, WRITE_DR7);
    let dr = |d0: u64, d1: u64, d7: u64| [d0, d1, 0, 0, 0, 0, 0, d7];
    let experiments = [
        Experiment {
            name: "ring 0, int3, SW_BP",
            ring0: Some(R0_INT3),
            user: None,
            control: sw,
            debugreg: [0; 8],
        },
        Experiment {
            name: "ring 0, SINGLESTEP",
            ring0: Some(R0_STEP),
            user: None,
            control: step,
            debugreg: [0; 8],
        },
        Experiment {
            name: "ring 0, HW_BP execute at +2",
            ring0: Some(R0_HW),
            user: None,
            control: hw,
            debugreg: dr(K + R0_HW + 2, 0, exec_dr7),
        },
        Experiment {
            name: "ring 0, HW_BP write watchpoint",
            ring0: Some(R0_WATCH),
            user: None,
            control: hw,
            debugreg: dr(0, R0_DATA, write_dr7),
        },
        Experiment {
            name: "ring 0, guest's own int3",
            ring0: Some(R0_INT3),
            user: None,
            control: 0,
            debugreg: [0; 8],
        },
        Experiment {
            name: "ring 0, guest's own TF",
            ring0: Some(R0_TF),
            user: None,
            control: 0,
            debugreg: [0; 8],
        },
        Experiment {
            name: "ring 0, guest's own DR0 execute",
            ring0: Some(OWN_DR[0]),
            user: None,
            control: 0,
            debugreg: [0; 8],
        },
        Experiment {
            name: "ring 0, guest's own DR1 write",
            ring0: Some(OWN_DR[1]),
            user: None,
            control: 0,
            debugreg: [0; 8],
        },
        Experiment {
            name: "ring 3, int3, SW_BP",
            ring0: None,
            user: Some(U_INT3),
            control: sw,
            debugreg: [0; 8],
        },
        Experiment {
            name: "ring 3, SINGLESTEP",
            ring0: None,
            user: Some(U_STEP),
            control: step,
            debugreg: [0; 8],
        },
        Experiment {
            name: "ring 3, HW_BP execute at +2",
            ring0: None,
            user: Some(U_HW),
            control: hw,
            debugreg: dr(USER + U_HW + 2, 0, exec_dr7),
        },
        Experiment {
            name: "ring 3, HW_BP write watchpoint",
            ring0: None,
            user: Some(U_WATCH),
            control: hw,
            debugreg: dr(0, U_DATA, write_dr7),
        },
        Experiment {
            name: "ring 3, guest's own int3",
            ring0: None,
            user: Some(U_INT3),
            control: 0,
            debugreg: [0; 8],
        },
        Experiment {
            name: "ring 3, guest's own TF",
            ring0: None,
            user: Some(U_TF),
            control: 0,
            debugreg: [0; 8],
        },
        Experiment {
            name: "ring 3, guest's own DR0 execute",
            ring0: Some(OWN_DR[2]),
            user: Some(U_HW),
            control: 0,
            debugreg: [0; 8],
        },
        Experiment {
            name: "ring 3, guest's own DR1 write",
            ring0: Some(OWN_DR[3]),
            user: Some(U_WATCH),
            control: 0,
            debugreg: [0; 8],
        },
    ];
    let modes: &[Mode] = if pvm {
        &[Mode::Native, Mode::Pvm]
    } else {
        &[Mode::Native]
    };
    for &mode in modes {
        println!("--- {mode:?} mode");
        for e in &experiments {
            let result = run(&kvm, mode, e).unwrap_or_else(|err| format!("error: {err:#}"));
            println!("{:34} {result}", e.name);
        }
    }
    Ok(())
}
