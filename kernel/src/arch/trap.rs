//! Trap frames and the common trap path: every exception, interrupt and system
//! call enters the kernel through `trap_common` (or the `syscall` entry) with a
//! [`TrapFrame`] on the kernel stack and leaves through `trap_return`.
//!
//! [`trap_dispatch`] turns the raw vector into a [`Trap`] (recognising the two
//! system-call signatures of the emulated native mode: docs/DESIGN.md, "A
//! system call") and hands it to the generic handlers in `userprog` and
//! `sched`.
mod decode;

pub use decode::Trap;
use decode::decode;

use super::cpu;
use abi::layout::gdt::{USER_CS, USER_DS};
use abi::layout::trap_frame as tf;

/// Registers saved on entry, in stack order (lowest address first): the
/// general-purpose registers (each field holds the register it is named
/// after), the vector and error code, then the CPU's iret frame (`rip`, `cs`,
/// `rflags`, `rsp`, `ss`). `abi::layout::trap_frame` gives the offsets.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
#[allow(missing_docs, reason = "each field is the register it is named after")]
pub struct TrapFrame {
    pub r15: u64,
    pub r14: u64,
    pub r13: u64,
    pub r12: u64,
    pub r11: u64,
    pub r10: u64,
    pub r9: u64,
    pub r8: u64,
    pub rbp: u64,
    pub rdi: u64,
    pub rsi: u64,
    pub rdx: u64,
    pub rcx: u64,
    pub rbx: u64,
    pub rax: u64,
    pub vector: u64,
    pub error_code: u64,
    pub rip: u64,
    pub cs: u64,
    pub rflags: u64,
    pub rsp: u64,
    pub ss: u64,
}

/// Vector number the `syscall` entry stores in its frame.
pub const VECTOR_SYSCALL: u64 = 0x100;

const RFLAGS_IF: u64 = 1 << 9;
/// The trap flag (single step).
const RFLAGS_TF: u64 = 1 << 8;
/// RFLAGS bits user code may set (CF PF AF ZF SF TF? no: DF OF and the arithmetic flags).
const RFLAGS_USER: u64 = 0xcd5;

impl TrapFrame {
    /// A frame that enters user mode at `rip` with stack `rsp`.
    pub fn new_user(rip: u64, rsp: u64) -> TrapFrame {
        TrapFrame {
            rip,
            rsp,
            cs: USER_CS as u64,
            ss: USER_DS as u64,
            rflags: RFLAGS_IF | 2,
            ..TrapFrame::default()
        }
    }

    /// Whether the trap came from user mode.
    pub fn from_user(&self) -> bool {
        self.cs & 3 == 3
    }

    /// System-call number and arguments (rax; rdi, rsi, rdx, r10, r8, r9).
    pub fn syscall_args(&self) -> (u64, [u64; 6]) {
        (
            self.rax,
            [self.rdi, self.rsi, self.rdx, self.r10, self.r8, self.r9],
        )
    }

    /// Sets the value returned to user mode in rax.
    pub fn set_return(&mut self, v: u64) {
        self.rax = v;
    }

    /// Completes a `syscall` that arrived as #GP at LSTAR (emulated native
    /// mode): resume at rcx with the flags saved in r11, as `sysretq` would.
    fn finish_emulated_syscall(&mut self) {
        self.rip = self.rcx;
        self.rflags = (self.r11 & RFLAGS_USER) | RFLAGS_IF | 2;
        self.cs = USER_CS as u64;
        self.ss = USER_DS as u64;
    }
}

/// Called by `trap_common` and the `syscall` entry with the saved frame.
#[unsafe(no_mangle)]
extern "C" fn trap_dispatch(frame: &mut TrapFrame) {
    let entry_tsc = cpu::rdtsc();
    let trap = decode(frame, entry_tsc);
    if let Trap::Timer = trap {
        super::timer::eoi();
        crate::sched::timer_tick();
    }
    if frame.from_user() {
        // User code always runs with interrupts on: let the timer preempt long
        // system calls and fault handling.
        cpu::intr_enable();
    }
    crate::userprog::handle_trap(trap, frame);
    if frame.from_user() {
        cpu::intr_disable();
    }
    // The fault's return stage ends here: a preemption that follows runs
    // other threads, which is not this fault's time.
    crate::profile::trap_exit();
    crate::sched::maybe_preempt(frame.from_user() || frame.rflags & RFLAGS_IF != 0);
}

/// Enters user mode with `frame` (which must be a user frame); never returns.
pub fn enter_user(frame: &TrapFrame) -> ! {
    let copy = *frame;
    cpu::intr_disable();
    // SAFETY: `trap_return` pops a TrapFrame from rsp and `iretq`s to it; the
    // copy lives on this thread's kernel stack, which stays valid, and nothing
    // returns here.
    unsafe {
        core::arch::asm!("mov rsp, {}", "jmp trap_return", in(reg) &copy, options(noreturn));
    }
}

/// Saves the 15 general-purpose registers in [`TrapFrame`] order (the
/// vector and error code are on the stack already).
macro_rules! push_gprs {
    () => {
        "push rax\npush rbx\npush rcx\npush rdx\npush rsi\npush rdi\npush rbp\n\
         push r8\npush r9\npush r10\npush r11\npush r12\npush r13\npush r14\npush r15"
    };
}
pub(super) use push_gprs;

/// Restores the 15 general-purpose registers of a [`TrapFrame`] and drops the
/// vector and error code, leaving rsp at the saved `rip`.
macro_rules! pop_gprs {
    () => {
        "pop r15\npop r14\npop r13\npop r12\npop r11\npop r10\npop r9\npop r8\n\
         pop rbp\npop rdi\npop rsi\npop rdx\npop rcx\npop rbx\npop rax"
    };
}

core::arch::global_asm!(
    ".pushsection .text.trap, \"ax\"",
    ".global trap_common",
    ".global trap_saved",
    ".global trap_return",
    "trap_common:",
    push_gprs!(),
    // The frame is complete (`debug_trap` joins here).
    "trap_saved:",
    "cld",
    "mov rdi, rsp",
    "call trap_dispatch",
    "trap_return:",
    "cmp byte ptr [rip + {pvm_mode}], 0",
    "jne 3f",
    pop_gprs!(),
    "add rsp, 16",
    "iretq",
    // PVM guest mode, back to user from a system call: `int $0x19` returns
    // like `sysretq` (rip from rcx, rflags from r11, rsp as it is), which the
    // syscall ABI allows since `syscall` clobbers rcx and r11 anyway.
    "3:",
    "test qword ptr [rsp + {cs}], 3",
    "jz 4f",
    "cmp qword ptr [rsp + {vector}], {vector_syscall}",
    "jne 6f",
    "mov rax, [rsp + {rip}]",
    "mov [rsp + {rcx}], rax",
    "mov rax, [rsp + {rflags}]",
    "mov [rsp + {r11}], rax",
    pop_gprs!(),
    "mov rsp, [rsp + {rsp_} - {vector}]",
    // Here every register is the user's (rcx: where it resumes); the
    // VMM's sampler knows this label.
    ".global trap_pvm_sysret",
    "trap_pvm_sysret:",
    "int 0x19",
    // PVM guest mode, back to user otherwise: `int $0x17` takes the iret frame at rsp.
    "6:",
    pop_gprs!(),
    "add rsp, 16",
    "int 0x17",
    // PVM guest mode, back to ring 0 without `iretq`: put rflags and rip on the
    // interrupted stack (it may overlap the frame's top slots, so read them
    // first), keep the new stack pointer in the vector slot, restore the
    // virtual IF (doorbell if an interrupt is pending), then `popfq; ret`.
    "4:",
    "test qword ptr [rsp + {rflags}], {tf}",
    "jnz 7f",
    "mov rax, [rsp + {rip}]",
    "mov rbx, [rsp + {rflags}]",
    "mov rcx, [rsp + {rsp_}]",
    "sub rcx, 16",
    "mov [rcx + 8], rax",
    "mov [rcx], rbx",
    "mov [rsp + {vector}], rcx",
    "bt rbx, 9",
    "jnc 5f",
    "mov rax, [rip + {vif}]",
    "mov byte ptr [rax], 1",
    "cmp byte ptr [rax + 1], 0",
    "je 5f",
    "out 0x80, al",
    "5:",
    pop_gprs!(),
    "mov rsp, [rsp]",
    // [rsp] = rflags, [rsp + 8] = rip (then [rsp] = rip at the `ret`), every
    // other register the interrupted code's; the VMM's sampler knows these labels.
    ".global trap_pvm_popfq",
    "trap_pvm_popfq:",
    "popfq",
    ".global trap_pvm_ret",
    "trap_pvm_ret:",
    "ret",
    // PVM guest mode, back to ring 0 with the trap flag set (a debugger's
    // single step): `popfq; ret` would trap after the `ret`, before the
    // instruction at rip ran, so take the slow `iretq`, which traps after it.
    "7:",
    "mov rbx, [rsp + {rflags}]",
    "bt rbx, 9",
    "jnc 8f",
    "mov rax, [rip + {vif}]",
    "mov byte ptr [rax], 1",
    "cmp byte ptr [rax + 1], 0",
    "je 8f",
    "out 0x80, al",
    "8:",
    pop_gprs!(),
    "add rsp, 16",
    "iretq",
    ".popsection",
    pvm_mode = sym super::pvm::PVM_MODE,
    vif = sym super::pvm::VIF_PTR,
    cs = const tf::CS,
    rip = const tf::RIP,
    rflags = const tf::RFLAGS,
    rsp_ = const tf::RSP,
    vector = const tf::VECTOR,
    vector_syscall = const VECTOR_SYSCALL,
    rcx = const tf::RCX,
    r11 = const tf::R11,
    tf = const RFLAGS_TF,
);

// The assembly above and the VMM's stack walks use the ABI's offsets.
const _: () = {
    use core::mem::{offset_of, size_of};
    assert!(offset_of!(TrapFrame, r11) as u64 == tf::R11);
    assert!(offset_of!(TrapFrame, rbp) as u64 == tf::RBP);
    assert!(offset_of!(TrapFrame, rcx) as u64 == tf::RCX);
    assert!(offset_of!(TrapFrame, vector) as u64 == tf::VECTOR);
    assert!(offset_of!(TrapFrame, rip) as u64 == tf::RIP);
    assert!(offset_of!(TrapFrame, cs) as u64 == tf::CS);
    assert!(offset_of!(TrapFrame, rflags) as u64 == tf::RFLAGS);
    assert!(offset_of!(TrapFrame, rsp) as u64 == tf::RSP);
    assert!(size_of::<TrapFrame>() as u64 == tf::SIZE);
};
