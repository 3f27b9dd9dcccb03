//! The stack walker on fake guest memory: page tables from
//! [`crate::guest_stack::fixture`], kernel stacks in the direct map, a user
//! stack at 0x4747_f000 (physical 0x6000).

use super::*;
use crate::guest_stack::fixture::{tables, w};
use crate::memory::{self, GuestMem};
use abi::layout::trap_frame::{CS as TF_CS, RFLAGS as TF_RFLAGS, RSP as TF_RSP, SIZE as TF_SIZE};
use vm_memory::{Bytes, GuestAddress};

const K: u64 = 0xffff_ffff_8020_0000;
const TRAP_RETURN: u64 = K + 0x1100;
const STUB: u64 = K + 0x1800;
const SYSCALL: u64 = K + 0x1f00;
const POPFQ: u64 = K + 0x1200;
const USER_RIP: u64 = 0x40_0abc;
const USER_RBP: u64 = 0x4747_ff00;
/// The frames of the user chain from `USER_RBP` (see [`user_stack`]).
const USER_CALLERS: [u64; 2] = [0x40_00ff, 0x40_004f];

/// The guest-virtual address of physical `pa` in the direct map.
fn k(pa: u64) -> u64 {
    0xffff_8880_0000_0000 + pa
}

fn kernel() -> KernelText {
    KernelText {
        trap_return: Some(TRAP_RETURN),
        trap: Some(TrapText {
            range: K + 0x1000..K + 0x2000,
            syscall: SYSCALL..SYSCALL + 0x28,
            sysret: Some(K + 0x10e0),
            popfq: Some(POPFQ),
            ret: Some(POPFQ + 1),
        }),
    }
}

/// Memory with page tables and a user stack of two frames from `USER_RBP`.
fn setup() -> (GuestMem, u64) {
    let mem = memory::create(4 << 20).unwrap();
    let root = tables(&mem);
    w(&mem, 0x6f00, 0x4747_ff40);
    w(&mem, 0x6f08, 0x40_0100);
    w(&mem, 0x6f40, 0);
    w(&mem, 0x6f48, 0x40_0050);
    (mem, root)
}

/// A user iret frame at physical `pa`.
fn user_iret(mem: &GuestMem, pa: u64) {
    w(mem, pa, USER_RIP);
    w(mem, pa + 8, 0x33);
    w(mem, pa + 16, 0x202);
    w(mem, pa + 24, 0x4747_fe00);
    w(mem, pa + 32, 0x2b);
}

fn regs(rip: u64, rsp: u64, rbp: u64) -> Regs {
    Regs {
        rip,
        rsp,
        rbp,
        rcx: 0,
    }
}

fn with_user(head: &[u64]) -> Vec<u64> {
    let mut v = head.to_vec();
    v.push(USER_RIP);
    v.extend(USER_CALLERS);
    v
}

#[test]
fn walks_kernel_frames_through_a_trap_into_user_frames() {
    let (mem, root) = setup();
    let mut p = PageWalker::new(&mem, root);
    // handler frame -> trap_dispatch frame -> trap frame.
    w(&mem, 0x30000, k(0x30100)); // handler: saved rbp
    w(&mem, 0x30008, K + 0x2345); // return into trap_dispatch
    w(&mem, 0x30100, USER_RBP); // trap_dispatch: saved rbp (user's)
    w(&mem, 0x30108, TRAP_RETURN);
    let tf = 0x30110;
    w(&mem, tf + TF_RIP, USER_RIP);
    w(&mem, tf + TF_RBP, USER_RBP);
    let s = walk(&mut p, regs(K + 0x3000, k(0x2ff00), k(0x30000)), &kernel());
    let want = with_user(&[K + 0x3000, K + 0x2344, TRAP_RETURN - 1]);
    assert_eq!(
        s,
        Stack {
            frames: want,
            end: End::Root
        }
    );
    // Without the trap link the walk stops where the stacks change, and says so.
    let plain = KernelText::default();
    let s = walk(&mut p, regs(K + 0x3000, k(0x2ff00), k(0x30000)), &plain);
    assert_eq!(s.frames.len(), 3);
    assert_eq!(s.end, End::Truncated(Cut::BadLink));
    // At trap_dispatch's first instruction, [rsp] is trap_return.
    mem.write_obj(PUSH_RBP, GuestAddress(0x20_2300)).unwrap();
    mem.write_slice(&MOV_RBP_RSP, GuestAddress(0x20_2301))
        .unwrap();
    let s = walk(&mut p, regs(K + 0x2300, k(0x30108), USER_RBP), &kernel());
    assert_eq!(s.frames, with_user(&[K + 0x2300, TRAP_RETURN - 1]));
    // After its `push rbp`, [rsp + 8] is.
    let s = walk(&mut p, regs(K + 0x2301, k(0x30100), USER_RBP), &kernel());
    assert_eq!(s.frames, with_user(&[K + 0x2301, TRAP_RETURN - 1]));
    assert_eq!(s.end, End::Root);
}

#[test]
fn a_sample_at_a_function_edge_keeps_its_caller() {
    // A leaf after its `pop rbp`, on its `ret` (where an interrupt that
    // `sti` re-enabled lands): rbp is the caller's, [rsp] returns into it.
    let (mem, root) = setup();
    let mut p = PageWalker::new(&mem, root);
    let leaf = K + 0x4000;
    mem.write_obj(RET, GuestAddress(0x20_4000)).unwrap();
    w(&mem, 0x2fff8, K + 0x5678); // [rsp]: return into the caller
    w(&mem, 0x30000, 0); // the caller's frame: the outermost
    w(&mem, 0x30008, 0);
    let s = walk(&mut p, regs(leaf, k(0x2fff8), k(0x30000)), &kernel());
    assert_eq!(s.frames, vec![leaf, K + 0x5677]);
    assert_eq!(s.end, End::Root);
    // On a function's `push rbp`, [rsp] is the return address too.
    mem.write_obj(PUSH_RBP, GuestAddress(0x20_4000)).unwrap();
    let s = walk(&mut p, regs(leaf, k(0x2fff8), k(0x30000)), &kernel());
    assert_eq!(s.frames, vec![leaf, K + 0x5677]);
    // On the `mov rbp, rsp` after it, [rsp] is the caller's rbp, and the
    // return address is above it.
    mem.write_slice(&MOV_RBP_RSP, GuestAddress(0x20_4000))
        .unwrap();
    w(&mem, 0x2fff0, k(0x30000));
    let s = walk(&mut p, regs(leaf, k(0x2fff0), k(0x30000)), &kernel());
    assert_eq!(s.frames, vec![leaf, K + 0x5677]);
    // Any other instruction: the chain from rbp alone.
    mem.write_obj(0x5du8, GuestAddress(0x20_4000)).unwrap(); // pop rbp
    let s = walk(&mut p, regs(leaf, k(0x2fff8), k(0x30000)), &kernel());
    assert_eq!(s.frames, vec![leaf]);
}

#[test]
fn a_sample_in_a_stub_belongs_to_the_interrupted_code() {
    let (mem, root) = setup();
    let mut p = PageWalker::new(&mem, root);
    // At the stub's entry: the CPU pushed an error code and the iret frame.
    w(&mem, 0x31000, 0x6);
    user_iret(&mem, 0x31008);
    let s = walk(&mut p, regs(STUB, k(0x31000), USER_RBP), &kernel());
    assert_eq!(
        s,
        Stack {
            frames: with_user(&[STUB]),
            end: End::Root
        }
    );

    // In trap_common with the whole frame pushed; the register rbp is not
    // the user's (a frame built to enter user mode): the saved slot counts.
    let base = 0x32000;
    user_iret(&mem, base + TF_RIP);
    w(&mem, base + TF_RBP, USER_RBP);
    let s = walk(&mut p, regs(K + 0x1010, k(base), k(0x30000)), &kernel());
    assert_eq!(s.frames, with_user(&[K + 0x1010]));

    // Interrupted kernel code, whose iret frame's rsp and ss slots the PVM
    // return to ring 0 has already overwritten.
    let base = 0x33000;
    w(&mem, base + TF_RIP, K + 0x4444);
    w(&mem, base + TF_CS, 0x10);
    w(&mem, base + TF_RFLAGS, 0x2);
    w(&mem, base + TF_RSP, 0x246);
    w(&mem, base + TF_RSP + 8, K + 0x4444);
    w(&mem, 0x34000, 0); // the interrupted kernel frame: the thread's root
    w(&mem, 0x34008, K + 0x5001);
    let s = walk(
        &mut p,
        regs(K + 0x1020, k(base + TF_RBP + 8), k(0x34000)),
        &kernel(),
    );
    let want = vec![K + 0x1020, K + 0x4444, K + 0x5000];
    assert_eq!(
        s,
        Stack {
            frames: want,
            end: End::Root
        }
    );

    // No iret frame within reach: the stack says so rather than guess.
    let far = k(0x35000);
    let s = walk(&mut p, regs(STUB, far, USER_RBP), &kernel());
    assert_eq!(
        s,
        Stack {
            frames: vec![STUB],
            end: End::TrapEntry
        }
    );
    // One slightly too far away is not taken either.
    user_iret(&mem, 0x35000 + TF_SIZE + 8 * 8);
    assert_eq!(
        walk(&mut p, regs(STUB, far, USER_RBP), &kernel()).end,
        End::TrapEntry
    );
    // Nor is a frame whose rflags has reserved bits set.
    user_iret(&mem, 0x36000);
    w(&mem, 0x36010, 0x202 | 1 << 40);
    let s = walk(&mut p, regs(STUB, k(0x36000), USER_RBP), &kernel());
    assert_eq!(s.end, End::TrapEntry);
}

#[test]
fn the_syscall_entry_and_pvm_returns_find_the_interrupted_rip() {
    let (mem, root) = setup();
    let mut p = PageWalker::new(&mem, root);
    // `syscall` entry, still on the user stack: rcx is the user rip.
    let r = Regs {
        rcx: USER_RIP,
        ..regs(SYSCALL + 7, 0x4747_fe00, USER_RBP)
    };
    assert_eq!(walk(&mut p, r, &kernel()).frames, with_user(&[SYSCALL + 7]));
    // The emulated native mode: `syscall` faulted at the entry in user mode,
    // and the stub sees a user iret frame whose rip is the entry.
    user_iret(&mem, 0x38000);
    w(&mem, 0x38000, SYSCALL);
    let r = Regs {
        rcx: USER_RIP,
        ..regs(STUB, k(0x38000), USER_RBP)
    };
    assert_eq!(walk(&mut p, r, &kernel()).frames, with_user(&[STUB]));
    // PVM `popfq; ret` to ring 0: [rflags, rip] then [rip] at rsp.
    w(&mem, 0x37000, 0x246);
    w(&mem, 0x37008, K + 0x4444);
    w(&mem, 0x34000, 0);
    w(&mem, 0x34008, K + 0x5001);
    let want = vec![POPFQ, K + 0x4444, K + 0x5000];
    let s = walk(&mut p, regs(POPFQ, k(0x37000), k(0x34000)), &kernel());
    assert_eq!(s.frames, want);
    let s = walk(&mut p, regs(POPFQ + 1, k(0x37008), k(0x34000)), &kernel());
    assert_eq!(s.frames, [&[POPFQ + 1], &want[1..]].concat());
}

#[test]
fn cut_chains_are_marked() {
    let (mem, root) = setup();
    let mut p = PageWalker::new(&mem, root);
    let at = |rbp| regs(1, 0, rbp);
    let k = KernelText::default();
    // A loop: the frame points at itself.
    w(&mem, 0x5000, 0x40_0000);
    w(&mem, 0x5008, 0x40_0777);
    let s = walk(&mut p, at(0x40_0000), &k);
    assert_eq!(s.frames, vec![1, 0x40_0776]);
    assert_eq!(s.end, End::Truncated(Cut::BadLink));
    // Unmapped (say, swapped out) and misaligned frame pointers.
    assert_eq!(
        walk(&mut p, at(0x1234_5000), &k).end,
        End::Truncated(Cut::Unmapped)
    );
    assert_eq!(
        walk(&mut p, at(0x40_0003), &k).end,
        End::Truncated(Cut::BadLink)
    );
    // A zero frame pointer is the natural root.
    assert_eq!(
        walk(&mut p, at(0), &k),
        Stack {
            frames: vec![1],
            end: End::Root
        }
    );
    // A chain that ends in an unmapped page after a good frame.
    w(&mem, 0x6f40, 0x4748_0000);
    let s = walk(&mut p, at(USER_RBP), &k);
    assert_eq!(s.frames, vec![1, 0x40_00ff, 0x40_004f]);
    assert_eq!(s.end, End::Truncated(Cut::Unmapped));
}

#[test]
fn deep_stacks_stop_at_the_cap() {
    let (mem, root) = setup();
    let mut p = PageWalker::new(&mem, root);
    // A chain of `n` frames on the user stack page, the last one the root.
    let build = |n: u64| {
        for i in 0..n {
            let fp = 0x6000 + 16 * i;
            let next = if i + 1 == n {
                0
            } else {
                0x4747_f000 + 16 * (i + 1)
            };
            w(&mem, fp, next);
            w(&mem, fp + 8, 0x40_1000 + i);
        }
    };
    build(200);
    let s = walk(&mut p, regs(1, 0, 0x4747_f000), &KernelText::default());
    assert_eq!(s.frames.len(), MAX_FRAMES);
    assert_eq!(s.end, End::Truncated(Cut::Depth));
    // One frame fewer than the cap fits whole.
    build(MAX_FRAMES as u64 - 1);
    let s = walk(&mut p, regs(1, 0, 0x4747_f000), &KernelText::default());
    assert_eq!(s.frames.len(), MAX_FRAMES);
    assert_eq!(s.end, End::Root);
}
