//! `fs-fork-ok`: proves a VM works: a file round trip (create, write, read
//! back, remove) and a fork whose child's status the parent collects. Run
//! after a bad-input test to show the system carries on.
#![no_std]
#![no_main]

use ulib::{check, sys};

ulib::test_main!(body);

fn body(_args: &[&str]) {
    let data: [u8; 1000] = core::array::from_fn(|i| (i * 7 + 3) as u8);
    check!(sys::create(c"ok.dat", 1000), "create \"ok.dat\"");
    let fd = sys::open(c"ok.dat");
    check!(fd > 1, "open \"ok.dat\"");
    check!(sys::write(fd, &data) == 1000, "write 1000 bytes");
    sys::seek(fd, 0);
    let mut back = [0u8; 1000];
    check!(sys::read(fd, &mut back) == 1000, "read them back");
    check!(back == data, "the bytes match");
    sys::close(fd);
    check!(sys::remove(c"ok.dat"), "remove \"ok.dat\"");
    let pid = sys::fork(c"child");
    if pid == 0 {
        sys::exit(81);
    }
    let status = sys::wait(pid);
    check!(status == 81, "fork: the child's status is 81");
}
