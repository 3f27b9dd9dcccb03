//! `dup2-complex`: standard output redirected into a file and restored,
//! duplicates that share one position in a forked child, closing and restoring
//! stdout, and the edge cases `dup2(fd, fd)` and `dup2` of a closed descriptor.
#![no_std]
#![no_main]

use ulib::{check, fail, msg, sys};

ulib::test_main!(body);

/// What `msg!("this line goes to the file")` writes.
const LINE: &[u8] = b"(dup2-complex) this line goes to the file\n";

fn body(_args: &[&str]) {
    sys::close(0);
    let mut byte = [0u8; 1];
    check!(
        sys::read(0, &mut byte) == -1,
        "read() from a closed stdin fails"
    );

    check!(sys::create(c"dup.out", 64), "create \"dup.out\"");
    let file = sys::open(c"dup.out");
    check!(
        file == 0,
        "open \"dup.out\" takes fd 0, the lowest free one"
    );

    let saved = sys::dup2(1, 20);
    check!(saved == 20, "dup2(1, 20) = {saved}");
    let redirected = sys::dup2(file, 1);
    msg!("this line goes to the file");
    let restored = sys::dup2(20, 1);
    check!(
        redirected == 1 && restored == 1,
        "stdout redirected and restored"
    );

    let pos = sys::tell(file);
    check!(
        pos as usize == LINE.len(),
        "offset after writing through fd 1 is {pos}"
    );
    sys::seek(file, 0);
    let mut back = [0u8; 64];
    let n = sys::read(file, &mut back[..LINE.len()]);
    if n != LINE.len() as i32 || back[..LINE.len()] != *LINE {
        fail!("\"dup.out\" does not hold the redirected line");
    }
    let text = core::str::from_utf8(&back[..LINE.len() - 1]).unwrap_or("?");
    msg!("the file holds \"{text}\"");

    let dup = sys::dup2(file, 30);
    check!(dup == 30, "dup2(file, 30) = {dup}");
    let pid = sys::fork(c"child");
    if pid == 0 {
        sys::seek(30, 0);
        let mut head = [0u8; 5];
        if sys::read(file, &mut head) != 5 || sys::tell(30) != 5 {
            fail!("child: the duplicates do not share a position");
        }
        sys::close(file);
        if sys::read(30, &mut head) != 5 || head[..] != LINE[5..10] {
            fail!("child: fd 30 stopped working when its original was closed");
        }
        msg!("child: duplicates share the offset and survive fork");
        sys::exit(9);
    }
    msg!("wait(child) = {}", sys::wait(pid));

    sys::seek(file, 0);
    let mut head = [0u8; 4];
    if sys::read(file, &mut head) != 4 || head[..] != LINE[..4] {
        fail!("the child's close() closed the parent's descriptor");
    }
    msg!("parent's descriptor survives the child's close");

    sys::close(1);
    let lost = sys::write(1, b"this must not appear\n");
    let back_again = sys::dup2(20, 1);
    check!(lost == -1 && back_again == 1, "stdout closed and restored");

    check!(sys::dup2(file, file) == file, "dup2(fd, fd) = fd");
    check!(sys::dup2(77, 5) == -1, "dup2 of a closed fd = -1");
}
