//! `cow-simple`: KAIST's copy-on-write test. Right after `fork`, a page the
//! parent wrote has the same physical address in the child (`get_phys_addr`)
//! and the same bytes; once the child writes it, the child has its own copy
//! at another address, and the parent keeps its page and its bytes.
#![no_std]
#![no_main]

use ulib::vmtest::PageArray;
use ulib::{check, sys};

ulib::test_main!(body);

const CHUNK_SIZE: usize = 1 << 20;
static BIG_CHUNKS: PageArray<CHUNK_SIZE> = PageArray::zeroed();
const BUF: &[u8] = b"Lorem ipsum dolor sit amet";

fn body(_args: &[&str]) {
    // SAFETY: the only reference to the array.
    let dummy = unsafe { BIG_CHUNKS.get() };
    dummy[..BUF.len()].copy_from_slice(BUF);
    let pa_parent = sys::get_phys_addr(dummy.as_ptr());
    let child = sys::fork(c"child");
    if child == 0 {
        check!(&dummy[..BUF.len()] == BUF, "check data consistency");
        let pa_child = sys::get_phys_addr(dummy.as_ptr());
        check!(pa_parent == pa_child, "two phys addrs should be the same.");
        dummy[0] = b'@';
        check!(&dummy[..BUF.len()] != BUF, "check data change");
        let pa_child = sys::get_phys_addr(dummy.as_ptr());
        check!(
            pa_parent != pa_child,
            "two phys addrs should not be the same."
        );
        return;
    }
    sys::wait(child);
    check!(
        pa_parent == sys::get_phys_addr(dummy.as_ptr()),
        "two phys addrs should be the same."
    );
    check!(&dummy[..BUF.len()] == BUF, "check data consistency");
}
