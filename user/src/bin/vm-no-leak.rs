//! `vm-no-leak`: processes give back every frame and swap slot they used,
//! however they end. After each kind of child below, the parent makes its own
//! image resident again and compares the kernel's count of user frames plus
//! swap slots in use with the count before: a child that swapped (and exited),
//! one killed with pages in swap, one that exited with a dirty file mapping,
//! one that forked a grandchild, and one that exec'd another program. The
//! parent's stack is grown to a fixed depth first and made resident with the
//! image, so its own footprint is the same at every count.
#![no_std]
#![no_main]

use abi::layout::USER_STACK;
use ulib::vmtest::guest::{memory_in_use, swap_slots_used, touch_image_except, touch_pages};
use ulib::vmtest::{MAP_ADDR, PAGE, PageArray};
use ulib::{cformat, fail, fault, msg, sys};

ulib::test_main!(body);

/// The memory children use (the parent never touches it).
const HEAP_SIZE: usize = 3 << 20;
static HEAP: PageArray<HEAP_SIZE> = PageArray::zeroed();

/// The kinds of children.
const KINDS: [&str; 5] = ["swapper", "killed", "mapper", "forker", "execer"];

/// Writes every page of `heap`.
fn dirty(heap: &mut [u8], value: u8) {
    for page in heap.chunks_mut(PAGE) {
        page[0] = value;
        page[PAGE - 1] = value;
    }
}

fn child(kind: &str) -> i32 {
    // SAFETY: the child's own copy; the only reference.
    let heap = unsafe { HEAP.get() };
    match kind {
        "swapper" => {
            dirty(heap, 1);
            if swap_slots_used().unwrap_or(0) == 0 {
                fail!("the swapper child did not swap");
            }
            0
        }
        "killed" => {
            dirty(heap, 2);
            fault::write_u32(0, 0);
            fail!("survived a write to NULL")
        }
        "mapper" => {
            let size = 512 << 10;
            if !sys::create(c"leak.dat", size as u32) {
                fail!("create \"leak.dat\"");
            }
            let fd = sys::open(c"leak.dat");
            let map = sys::mmap(MAP_ADDR as *mut u8, size, true, fd, 0);
            if map as usize != MAP_ADDR {
                fail!("mmap \"leak.dat\"");
            }
            // SAFETY: the mapping covers `size` writable bytes.
            dirty(unsafe { core::slice::from_raw_parts_mut(map, size) }, 3);
            0
        }
        "forker" => {
            dirty(&mut heap[..HEAP_SIZE / 2], 4);
            let pid = sys::fork(c"grandchild");
            if pid == 0 {
                dirty(heap, 5);
                sys::exit(0);
            }
            if sys::wait(pid) != 0 {
                fail!("the grandchild failed");
            }
            0
        }
        _ => {
            dirty(&mut heap[..HEAP_SIZE / 2], 6);
            let cmd = cformat!("child-linear 9");
            sys::exec(cmd.as_cstr());
            fail!("exec \"child-linear 9\" returned")
        }
    }
}

/// Grows the stack by a 16 KiB frame, deeper than the parent ever goes
/// otherwise, and returns the lowest stack page it reached: from then on the
/// parent's stack pages are a fixed set.
#[inline(never)]
fn grow_stack() -> usize {
    let mut frame = [0u8; 16 << 10];
    let frame = core::hint::black_box(&mut frame);
    frame.as_ptr() as usize & !(PAGE - 1)
}

/// The frames and slots in use with the parent's whole image and stack
/// resident.
fn in_use(stack_low: usize) -> u64 {
    let heap = HEAP.as_ptr() as usize;
    touch_image_except(heap..heap + HEAP_SIZE);
    touch_pages(stack_low as *const u8, USER_STACK as usize - stack_low);
    memory_in_use().unwrap_or_else(|| fail!("memstats failed"))
}

fn body(_args: &[&str]) {
    let expected_status = [0, -1, 0, 0, 0x42];
    let stack_low = grow_stack();
    let before = in_use(stack_low);
    for (kind, want) in KINDS.iter().zip(expected_status) {
        let name = cformat!("{kind}");
        let pid = sys::fork(name.as_cstr());
        if pid == 0 {
            sys::exit(child(kind));
        }
        let status = sys::wait(pid);
        let after = in_use(stack_low);
        if status != want {
            fail!("the {kind} child exited with {status}, expected {want}");
        }
        if after != before {
            fail!(
                "the {kind} child leaked: {before} frames and slots in use before it, {after} after"
            );
        }
        msg!("no frame or swap slot leaked by the {kind} child");
    }
}
