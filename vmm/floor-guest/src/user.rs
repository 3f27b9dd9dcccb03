//! The user half of the floor guest: its page tables (PML4 slot 1, in both
//! halves of the PVM page-table pair), the user code that times the probes
//! with `rdtsc` in user mode, and the page-fault handler, which only writes
//! the prepared page-table entry of the faulting page and returns.
//!
//! User layout: code at [`USER_BASE`] (one page of this image, read-only),
//! a data page after it (parameters, results, the user stack), the pages
//! that fault at [`FAULT_BASE`] and the pages mapped in advance at
//! [`SHADOW_BASE`], each of them its own frame.

use abi::boot::BootInfo;
use abi::layout::pte::{ACCESSED, DIRTY, PRESENT, USER, WRITABLE};

use crate::{image_phys, phys_virt, report};

/// Most pages of each page kind (one page table each).
pub const MAX_PAGES: u64 = 512;
/// PML4 slot 1.
const USER_BASE: u64 = 0x80_0000_0000;
const USER_DATA: u64 = USER_BASE + 0x1000;
const FAULT_BASE: u64 = USER_BASE + 0x20_0000;
const SHADOW_BASE: u64 = USER_BASE + 0x40_0000;
const TABLE: u64 = PRESENT | WRITABLE | USER;
const LEAF: u64 = PRESENT | WRITABLE | USER | ACCESSED | DIRTY;

/// Words of the data page: parameters, then results (cycles).
const N_TRAP: usize = 0;
const N_FAULT: usize = 1;
const N_SHADOW: usize = 2;
const N_SYSCALL: usize = 3;
const DO_SYSCALL: usize = 4;
const R_TRAP: usize = 8;
const R_FAULT: usize = 9;
const R_SHADOW: usize = 10;
const R_SYSCALL: usize = 11;

#[repr(C, align(4096))]
struct Page([u64; 512]);
static mut PDPT: Page = Page([0; 512]);
static mut PD: Page = Page([0; 512]);
static mut PT_LOW: Page = Page([0; 512]);
static mut PT_FAULT: Page = Page([0; 512]);
static mut PT_SHADOW: Page = Page([0; 512]);
static mut DATA: Page = Page([0; 512]);
/// The entry the fault handler writes for each faulting page.
static mut FAULT_PTES: [u64; MAX_PAGES as usize] = [0; MAX_PAGES as usize];
/// Pages of the fault region the handler may map.
static mut FAULT_PAGES: u64 = 0;
/// Kernel address of the fault address in the VIF page (PVM guest mode).
static mut VIF_CR2: u64 = 0;

unsafe extern "C" {
    fn floor_user_code();
    pub fn floor_pf_pvm();
    pub fn floor_pf_native();
    static __kernel_end: u8;
}

core::arch::global_asm!(
    ".section .text.floor_user, \"ax\"",
    ".p2align 12",
    ".global floor_user_code",
    "floor_user_code:",
    "mov rbx, {data}",
    "cmp qword ptr [rbx + 8 * {do_sys}], 0",
    "je 1f",
    "mov r12, [rbx + 8 * {n_sys}]",
    "rdtsc", "shl rdx, 32", "or rax, rdx", "mov r13, rax",
    "2: syscall",
    "dec r12", "jnz 2b",
    "rdtsc", "shl rdx, 32", "or rax, rdx", "sub rax, r13",
    "mov [rbx + 8 * {r_sys}], rax",
    "1: mov r12, [rbx + 8 * {n_trap}]",
    "rdtsc", "shl rdx, 32", "or rax, rdx", "mov r13, rax",
    "3: int3",
    "dec r12", "jnz 3b",
    "rdtsc", "shl rdx, 32", "or rax, rdx", "sub rax, r13",
    "mov [rbx + 8 * {r_trap}], rax",
    "mov r12, [rbx + 8 * {n_fault}]",
    "mov r14, {fault}",
    "rdtsc", "shl rdx, 32", "or rax, rdx", "mov r13, rax",
    "4: mov byte ptr [r14], 1",
    "add r14, 4096", "dec r12", "jnz 4b",
    "rdtsc", "shl rdx, 32", "or rax, rdx", "sub rax, r13",
    "mov [rbx + 8 * {r_fault}], rax",
    "mov r12, [rbx + 8 * {n_shadow}]",
    "mov r14, {shadow}",
    "rdtsc", "shl rdx, 32", "or rax, rdx", "mov r13, rax",
    "5: mov byte ptr [r14], 1",
    "add r14, 4096", "dec r12", "jnz 5b",
    "rdtsc", "shl rdx, 32", "or rax, rdx", "sub rax, r13",
    "mov [rbx + 8 * {r_shadow}], rax",
    "ud2",
    ".p2align 12",
    ".section .text",
    ".global floor_pf_pvm, floor_pf_native",
    "floor_pf_pvm:",
    "push rax", "push rcx",
    "mov rax, [rip + {vif_cr2}]",
    "mov rax, [rax]",
    "call 6f",
    "pop rcx", "pop rax",
    "add rsp, 8",
    "int 0x17",
    "floor_pf_native:",
    "push rax", "push rcx",
    "mov rax, cr2",
    "call 6f",
    "pop rcx", "pop rax",
    "add rsp, 8",
    "iretq",
    // rax = fault address: write its prepared entry (clobbers rax, rcx).
    "6: mov rcx, {fault}",
    "sub rax, rcx",
    "shr rax, 12",
    "cmp rax, [rip + {pages}]",
    "jae floor_unexpected",
    "lea rcx, [rip + {ptes}]",
    "mov rcx, [rcx + 8 * rax]",
    "push rdx",
    "lea rdx, [rip + {pt}]",
    "mov [rdx + 8 * rax], rcx",
    "pop rdx",
    "ret",
    data = const USER_DATA,
    fault = const FAULT_BASE,
    shadow = const SHADOW_BASE,
    n_trap = const N_TRAP,
    n_fault = const N_FAULT,
    n_shadow = const N_SHADOW,
    n_sys = const N_SYSCALL,
    do_sys = const DO_SYSCALL,
    r_trap = const R_TRAP,
    r_fault = const R_FAULT,
    r_shadow = const R_SHADOW,
    r_sys = const R_SYSCALL,
    vif_cr2 = sym VIF_CR2,
    pages = sym FAULT_PAGES,
    ptes = sym FAULT_PTES,
    pt = sym PT_FAULT,
);

/// Image address of a page-table static as a table entry.
fn table(page: *const Page) -> u64 {
    image_phys(page as u64) | TABLE
}

/// Maps the user half, enters user mode (which never returns: its `ud2`
/// ends in [`crate::after_user`]).
pub fn run(boot: &BootInfo, pvm: bool, n: u64) -> ! {
    let image_end = image_phys(&raw const __kernel_end as u64);
    let first = boot.free_start.max(image_end).next_multiple_of(4096);
    let frames = boot.mem_size.saturating_sub(first) / 4096;
    let pages = n.min(MAX_PAGES).min(frames / 2).max(1);
    // SAFETY: single-threaded set-up before user mode; the tables are this
    // image's own statics and the frames lie between the image and the end
    // of RAM, unused by anything else. The PML4 pair is the VMM's boot pair.
    unsafe {
        let data = &raw mut DATA;
        let data = &mut *data;
        data.0[N_TRAP] = n;
        data.0[N_FAULT] = pages;
        data.0[N_SHADOW] = pages;
        data.0[N_SYSCALL] = n;
        data.0[DO_SYSCALL] = pvm as u64;
        FAULT_PAGES = pages;
        VIF_CR2 = phys_virt(boot.vif_page) + 8;
        let low = &raw mut PT_LOW;
        let low = &mut *low;
        low.0[0] = image_phys(floor_user_code as *const () as u64) | PRESENT | USER | ACCESSED;
        low.0[1] = image_phys(&raw const DATA as u64) | LEAF;
        let shadow = &raw mut PT_SHADOW;
        let shadow = &mut *shadow;
        let ptes = &raw mut FAULT_PTES;
        let ptes = &mut *ptes;
        let frames = ptes
            .iter_mut()
            .zip(shadow.0.iter_mut())
            .take(pages as usize);
        for (i, (fault, mapped)) in frames.enumerate() {
            *fault = (first + i as u64 * 4096) | LEAF;
            *mapped = (first + (pages + i as u64) * 4096) | LEAF;
        }
        let pd = &raw mut PD;
        let pd = &mut *pd;
        pd.0[0] = table(&raw const PT_LOW);
        pd.0[1] = table(&raw const PT_FAULT);
        pd.0[2] = table(&raw const PT_SHADOW);
        let pdpt = &raw mut PDPT;
        (*pdpt).0[0] = table(&raw const PD);
        for half in [0, 4096] {
            let pml4 = phys_virt(boot.boot_pml4 + half) as *mut u64;
            pml4.add(1).write_volatile(table(&raw const PDPT));
        }
        core::arch::asm!(
            "push {ss}",
            "push {rsp}",
            "push 2",
            "push {cs}",
            "push {rip}",
            "test {pvm}, {pvm}",
            "jz 2f",
            "int 0x17",
            "2: iretq",
            ss = const abi::layout::gdt::USER_DS,
            rsp = in(reg) USER_DATA + 4096,
            cs = const abi::layout::gdt::USER_CS,
            rip = in(reg) USER_BASE,
            pvm = in(reg) pvm as u64,
            options(noreturn),
        )
    }
}

/// Prints what the user part measured.
pub fn report_results() {
    let data = &raw const DATA;
    // SAFETY: user mode is over; the data page is read only from here.
    let data = unsafe { &*data };
    report("int3", data.0[N_TRAP], data.0[R_TRAP]);
    report("page-fault", data.0[N_FAULT], data.0[R_FAULT]);
    report("shadow-fill", data.0[N_SHADOW], data.0[R_SHADOW]);
    if data.0[DO_SYSCALL] != 0 {
        report("syscall", data.0[N_SYSCALL], data.0[R_SYSCALL]);
    }
}
