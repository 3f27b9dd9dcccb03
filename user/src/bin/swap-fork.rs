//! `swap-fork`: fork of a process larger than the user pool, whatever state
//! its pages are in. The parent has 512 KiB of initialized data (half of it
//! never touched, so still to be loaded from the executable), a 2 MiB `.bss`
//! array it fills (much of it in swap by then) and a 256 KiB file mapping
//! (half of it read): 2.75 MiB against a 2 MiB pool. It forks six children
//! that all run at once; each checks every page of its copy, rewrites its
//! array with its own contents and checks that, then exits with 100 + its
//! number. The parent's memory must be unchanged at the end (Pintos
//! `swap-fork`).
#![no_std]
#![no_main]

use ulib::vmtest::{MAP_ADDR, PAGE, PageArray, fill_pattern, pattern_mismatch};
use ulib::{check, fail, msg, sys};

ulib::test_main!(body);

const DATA_SIZE: usize = 512 << 10;
const BSS_SIZE: usize = 2 << 20;
const MAP_SIZE: usize = 256 << 10;
const DATA_SEED: u64 = 0xda7a;
const BSS_SEED: u64 = 0xb55;
const MAP_SEED: u64 = 0xf0f0;
const CHILDREN: usize = 6;

static DATA: PageArray<DATA_SIZE> = PageArray::with_pattern(DATA_SEED);
static BSS: PageArray<BSS_SIZE> = PageArray::zeroed();

/// Checks `region` page by page against the contents named by `seed`.
fn verify(what: &str, region: &[u8], seed: u64) {
    for (i, page) in region.chunks(PAGE).enumerate() {
        if let Some(k) = pattern_mismatch(page, seed, (i * PAGE) as u64) {
            fail!("{what} page {i} differs at byte {k}");
        }
    }
}

/// Creates `fork.dat` with known contents and maps it read-only.
fn map_file() -> &'static [u8] {
    if !sys::create(c"fork.dat", MAP_SIZE as u32) {
        fail!("create \"fork.dat\"");
    }
    let fd = sys::open(c"fork.dat");
    let mut page = [0u8; PAGE];
    for i in 0..MAP_SIZE / PAGE {
        fill_pattern(&mut page, MAP_SEED, (i * PAGE) as u64);
        if fd < 2 || sys::write(fd, &page) != PAGE as i32 {
            fail!("write \"fork.dat\"");
        }
    }
    let map = sys::mmap(MAP_ADDR as *mut u8, MAP_SIZE, false, fd, 0);
    if map as usize != MAP_ADDR {
        fail!("mmap \"fork.dat\"");
    }
    sys::close(fd);
    // SAFETY: the mapping covers MAP_SIZE bytes and is never unmapped.
    unsafe { core::slice::from_raw_parts(map, MAP_SIZE) }
}

/// Reads one byte of every other page of `region`.
fn touch_half(region: &[u8]) {
    for page in region.chunks(PAGE).step_by(2) {
        core::hint::black_box(page[0]);
    }
}

fn child(i: usize, data: &[u8], bss: &mut [u8], map: &[u8]) -> ! {
    verify("data", data, DATA_SEED);
    verify("bss", bss, BSS_SEED);
    verify("mapped", map, MAP_SEED);
    let seed = BSS_SEED + 1 + i as u64;
    fill_pattern(bss, seed, 0);
    verify("rewritten bss", bss, seed);
    sys::exit(100 + i as i32)
}

fn body(_args: &[&str]) {
    // SAFETY: the only references to the arrays.
    let (data, bss) = unsafe { (DATA.get(), BSS.get()) };
    let map = map_file();
    touch_half(data);
    touch_half(map);
    fill_pattern(bss, BSS_SEED, 0);
    msg!("parent memory is ready");

    let mut pids = [0; CHILDREN];
    for (i, pid) in pids.iter_mut().enumerate() {
        *pid = sys::fork(c"child");
        if *pid == 0 {
            child(i, data, bss, map);
        }
        if *pid < 0 {
            fail!("fork child {i}");
        }
    }
    for (i, &pid) in pids.iter().enumerate() {
        let status = sys::wait(pid);
        check!(
            status == 100 + i as i32,
            "child {i} checked and rewrote its own copy"
        );
    }
    verify("data", data, DATA_SEED);
    verify("bss", bss, BSS_SEED);
    verify("mapped", map, MAP_SEED);
    msg!("parent memory is unchanged");
}
