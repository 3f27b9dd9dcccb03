//! Where the debugged registers live and how they map to gdb's: in the vCPU
//! (`KVM_GET_REGS`/`SREGS`/`FPU`), or, when the kernel handed a #BP or #DB to
//! the debugger, in the trap frame it saved (`abi::layout::trap_frame`): the
//! interrupted code's registers, which the kernel restores on return.

use gdbstub_arch::x86::reg::X86_64CoreRegs;
use kvm_bindings::{kvm_fpu, kvm_regs, kvm_sregs};

use super::arch::Regs;

/// Words in a trap frame.
pub const FRAME_WORDS: usize = (abi::layout::trap_frame::SIZE / 8) as usize;

/// The trap flag in rflags.
pub const RFLAGS_TF: u64 = 1 << 8;

/// Indexes into a trap frame's words.
mod tf {
    pub const R15: usize = 0;
    pub const R8: usize = 7;
    pub const RBP: usize = 8;
    pub const RDI: usize = 9;
    pub const RSI: usize = 10;
    pub const RDX: usize = 11;
    pub const RCX: usize = 12;
    pub const RBX: usize = 13;
    pub const RAX: usize = 14;
    pub const RIP: usize = 17;
    pub const CS: usize = 18;
    pub const RFLAGS: usize = 19;
    pub const RSP: usize = 20;
    pub const SS: usize = 21;
}

/// Index of rip in a trap frame (for the breakpoint rewind).
pub const FRAME_RIP: usize = tf::RIP;
/// Index of rflags in a trap frame.
pub const FRAME_RFLAGS: usize = tf::RFLAGS;

/// The registers of a stopped vCPU.
pub fn from_vcpu(r: &kvm_regs, s: &kvm_sregs, f: &kvm_fpu) -> Regs {
    let mut core = X86_64CoreRegs {
        regs: [
            r.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi, r.rbp, r.rsp, r.r8, r.r9, r.r10, r.r11,
            r.r12, r.r13, r.r14, r.r15,
        ],
        eflags: r.rflags as u32,
        rip: r.rip,
        ..X86_64CoreRegs::default()
    };
    set_segments(&mut core, s);
    core.segments.cs = u32::from(s.cs.selector);
    core.segments.ss = u32::from(s.ss.selector);
    for (st, fpr) in core.st.iter_mut().zip(f.fpr.iter()) {
        st.copy_from_slice(&fpr[..10]);
    }
    core.fpu.fctrl = u32::from(f.fcw);
    core.fpu.fstat = u32::from(f.fsw);
    core.fpu.ftag = u32::from(f.ftwx);
    core.fpu.fop = u32::from(f.last_opcode);
    core.fpu.fioff = f.last_ip as u32;
    core.fpu.fooff = f.last_dp as u32;
    for (x, b) in core.xmm.iter_mut().zip(f.xmm.iter()) {
        *x = u128::from_le_bytes(*b);
    }
    core.mxcsr = f.mxcsr;
    with_system(core, s)
}

/// The registers saved in a trap frame (`words`), with the vCPU's segment,
/// FPU and system registers (the kernel's #BP/#DB path changes none of them).
pub fn from_frame(words: &[u64; FRAME_WORDS], s: &kvm_sregs, f: &kvm_fpu) -> Regs {
    let vcpu = from_vcpu(&kvm_regs::default(), s, f);
    let mut core = vcpu.core;
    core.regs = [
        words[tf::RAX],
        words[tf::RBX],
        words[tf::RCX],
        words[tf::RDX],
        words[tf::RSI],
        words[tf::RDI],
        words[tf::RBP],
        words[tf::RSP],
        words[tf::R8],
        words[tf::R8 - 1],
        words[tf::R8 - 2],
        words[tf::R8 - 3],
        words[tf::R8 - 4],
        words[tf::R8 - 5],
        words[tf::R8 - 6],
        words[tf::R15],
    ];
    core.rip = words[tf::RIP];
    core.eflags = words[tf::RFLAGS] as u32;
    core.segments.cs = words[tf::CS] as u32;
    core.segments.ss = words[tf::SS] as u32;
    with_system(core, s)
}

/// Copies gdb's general registers, rip and rflags into the vCPU's.
pub fn to_vcpu(g: &Regs, r: &mut kvm_regs) {
    let x = &g.core.regs;
    (r.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi, r.rbp, r.rsp) =
        (x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7]);
    (r.r8, r.r9, r.r10, r.r11, r.r12, r.r13, r.r14, r.r15) =
        (x[8], x[9], x[10], x[11], x[12], x[13], x[14], x[15]);
    r.rip = g.core.rip;
    r.rflags = (r.rflags & !0xffff_ffff) | u64::from(g.core.eflags);
}

/// Copies gdb's general registers, rip, rflags and rsp into a trap frame
/// (cs and ss stay: the kernel's return path depends on them).
pub fn to_frame(g: &Regs, words: &mut [u64; FRAME_WORDS]) {
    let x = &g.core.regs;
    words[tf::RAX] = x[0];
    words[tf::RBX] = x[1];
    words[tf::RCX] = x[2];
    words[tf::RDX] = x[3];
    words[tf::RSI] = x[4];
    words[tf::RDI] = x[5];
    words[tf::RBP] = x[6];
    words[tf::RSP] = x[7];
    for i in 0..8 {
        words[tf::R8 - i] = x[8 + i];
    }
    words[tf::RIP] = g.core.rip;
    words[tf::RFLAGS] = (words[tf::RFLAGS] & !0xffff_ffff) | u64::from(g.core.eflags);
}

fn set_segments(core: &mut X86_64CoreRegs, s: &kvm_sregs) {
    core.segments.ds = u32::from(s.ds.selector);
    core.segments.es = u32::from(s.es.selector);
    core.segments.fs = u32::from(s.fs.selector);
    core.segments.gs = u32::from(s.gs.selector);
}

fn with_system(core: X86_64CoreRegs, s: &kvm_sregs) -> Regs {
    Regs {
        core,
        fs_base: s.fs.base,
        gs_base: s.gs.base,
        cr0: s.cr0,
        cr2: s.cr2,
        cr3: s.cr3,
        cr4: s.cr4,
        efer: s.efer,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_registers_map_both_ways() {
        let mut words = [0u64; FRAME_WORDS];
        for (i, w) in words.iter_mut().enumerate() {
            *w = 100 + i as u64;
        }
        let mut s = kvm_sregs {
            cr3: 0x10000,
            ..kvm_sregs::default()
        };
        s.ds.selector = 0x18;
        let regs = from_frame(&words, &s, &kvm_fpu::default());
        assert_eq!(regs.core.regs[0], 100 + tf::RAX as u64);
        assert_eq!(regs.core.regs[15], 100); // r15 is the frame's first word
        assert_eq!(regs.core.regs[8], 100 + tf::R8 as u64);
        assert_eq!(regs.core.rip, 100 + tf::RIP as u64);
        assert_eq!(regs.core.regs[7], 100 + tf::RSP as u64);
        assert_eq!((regs.cr3, regs.core.segments.ds), (0x10000, 0x18));
        let mut back = [0u64; FRAME_WORDS];
        back[tf::CS] = 0x33;
        to_frame(&regs, &mut back);
        for i in [
            tf::R15,
            tf::R8,
            tf::RBP,
            tf::RAX,
            tf::RIP,
            tf::RFLAGS,
            tf::RSP,
        ] {
            assert_eq!(back[i], words[i], "word {i}");
        }
        assert_eq!(back[tf::CS], 0x33);
    }

    #[test]
    fn vcpu_registers_map_both_ways() {
        let r = kvm_regs {
            rax: 1,
            r15: 15,
            rip: 0x40_1000,
            rflags: 0x246,
            ..kvm_regs::default()
        };
        let regs = from_vcpu(&r, &kvm_sregs::default(), &kvm_fpu::default());
        let mut back = kvm_regs::default();
        to_vcpu(&regs, &mut back);
        assert_eq!(back, r);
    }
}
