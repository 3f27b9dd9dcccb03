//! `preempt`: a child that spins forever without a system call must not keep
//! the CPU: the parent sees the child start, keeps running and printing, and
//! exits, which ends the VM while the child still spins.
#![no_std]
#![no_main]

use ulib::{check, msg, sys};

ulib::test_main!(body);

/// User-mode work long enough to span timer ticks.
fn busy(rounds: u64) -> u64 {
    let mut x = 0u64;
    for i in 0..rounds {
        x = core::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
    }
    x
}

fn body(_args: &[&str]) {
    check!(sys::create(c"flag", 1), "create \"flag\"");
    let fd = sys::open(c"flag");
    check!(fd > 1, "open \"flag\"");
    let pid = sys::fork(c"spinner");
    if pid == 0 {
        sys::seek(fd, 0);
        sys::write(fd, b"x");
        let mut n = 0u64;
        loop {
            n = core::hint::black_box(n.wrapping_add(1));
        }
    }
    check!(pid > 0, "fork a child that spins without system calls");
    let mut flag = [0u8; 1];
    loop {
        sys::seek(fd, 0);
        if sys::read(fd, &mut flag) == 1 && flag[0] == b'x' {
            break;
        }
    }
    msg!("the child is spinning");
    for i in 1..=3 {
        core::hint::black_box(busy(5_000_000));
        msg!("parent still runs ({i})");
    }
}
