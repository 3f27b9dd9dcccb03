//! `dup2-large`: descriptors are sparse numbers from 0 to 1023: `dup2` to
//! 0x1CE (as KAIST's dup2 tests do) and to 1023 works, to 1024 or a negative
//! number fails; `open` takes the lowest free number; a fork copies the
//! sparse table; and once all 1024 numbers are in use `open` fails with -1
//! and `dup2` can still replace one.
#![no_std]
#![no_main]

use ulib::sample::SAMPLE;
use ulib::{check, health, sys};

ulib::test_main!(body);

const HIGH: i32 = 0x1CE;
const LAST: i32 = 1023;

fn body(_args: &[&str]) {
    let fd = sys::open(c"sample.txt");
    check!(fd == 2, "open \"sample.txt\" takes fd 2");
    check!(sys::dup2(fd, HIGH) == HIGH, "dup2(fd, 0x1CE) = 0x1CE");
    check!(sys::dup2(fd, LAST) == LAST, "dup2(fd, 1023) = 1023");
    check!(
        sys::dup2(fd, LAST + 1) == -1 && sys::dup2(fd, -1) == -1 && sys::dup2(fd, i32::MAX) == -1,
        "dup2 to 1024, -1 or 2^31-1 fails"
    );
    let mut head = [0u8; 5];
    check!(
        sys::read(HIGH, &mut head) == 5 && head[..] == SAMPLE[..5],
        "read through fd 0x1CE"
    );
    check!(sys::open(c"sample.txt") == 3, "the next open takes fd 3");
    sys::close(fd);
    check!(sys::open(c"sample.txt") == 2, "a closed fd is reused first");
    let pid = sys::fork(c"child");
    if pid == 0 {
        let mut more = [0u8; 5];
        let ok = sys::read(LAST, &mut more) == 5 && more[..] == SAMPLE[5..10];
        sys::exit(if ok { 0 } else { 1 });
    }
    check!(
        sys::wait(pid) == 0,
        "the child reads through its copy of fd 1023"
    );
    let mut opened = 0;
    while sys::open(c"sample.txt") >= 0 {
        opened += 1;
    }
    // 0, 1, 2, 3, 0x1CE and 1023 were taken before.
    check!(
        opened == 1024 - 6,
        "open fails (-1) once all 1024 fds are in use"
    );
    check!(sys::dup2(0, 500) == 500, "dup2 still replaces one then");
    for n in 2..1024 {
        sys::close(n);
    }
    health::still_works();
}
