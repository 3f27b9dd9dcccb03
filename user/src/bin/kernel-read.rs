//! `kernel-read WHERE`: user code must not reach kernel memory, neither by a
//! load nor through a system call's buffer. WHERE is `direct` (a load from the
//! direct map), `image` (a load from the kernel image), `sys-read` (`read` into
//! the direct map) or `sys-write` (`write` from the kernel image); each must end
//! the process with exit(-1).
#![no_std]
#![no_main]

use ulib::abi::layout::{DIRECT_MAP_BASE, KERNEL_PHYS_BASE, KERNEL_VIRT_BASE};
use ulib::{check, fail, fault, msg, sys};

ulib::test_main!(body);

fn body(args: &[&str]) {
    let direct = DIRECT_MAP_BASE + KERNEL_PHYS_BASE;
    let image = KERNEL_VIRT_BASE + KERNEL_PHYS_BASE;
    match args.get(1).copied().unwrap_or("direct") {
        "direct" => {
            msg!("load from {direct:#x}");
            let v = fault::read_u32(direct);
            fail!("read {v:#x} from the direct map");
        }
        "image" => {
            msg!("load from {image:#x}");
            let v = fault::read_u32(image);
            fail!("read {v:#x} from the kernel image");
        }
        "sys-read" => {
            let fd = sys::open(c"sample.txt");
            check!(fd > 1, "open \"sample.txt\"");
            msg!("read() into {direct:#x}");
            let n = sys::read_raw(fd, direct as *mut u8, 64);
            fail!("read() into the direct map returned {n}");
        }
        "sys-write" => {
            msg!("write() from {image:#x}");
            let n = sys::write_raw(1, image as *const u8, 64);
            fail!("write() from the kernel image returned {n}");
        }
        other => fail!("unknown place {other}"),
    }
}
