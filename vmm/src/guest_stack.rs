//! Reading guest memory the way the guest sees it: a 4-level page-table walk
//! from the guest's CR3 (guest-virtual to guest-physical), for the sampler's
//! stack walks ([`crate::stack_walk`]) and the debugger.

use crate::memory::{self, GuestMem};

use abi::layout::pte::{ADDR_MASK as PTE_ADDR, HUGE as PTE_HUGE, PRESENT as PTE_PRESENT};

/// Whether `va` is in the upper (kernel) half of the address space.
pub fn is_kernel_address(va: u64) -> bool {
    va >= 0xffff_8000_0000_0000
}

/// The top-level table of the address space the vCPU runs in: CR3 without
/// its flag bits; in PVM guest mode, the kernel half of the 8 KiB pair (CR3
/// may point at the user half; the kernel half maps the kernel and the
/// current process).
pub fn root(cr3: u64, pvm_mode: bool) -> u64 {
    cr3 & if pvm_mode { !0x1fff } else { !0xfff }
}

/// Translates guest-virtual addresses through one address space.
pub struct PageWalker<'a> {
    mem: &'a GuestMem,
    /// Guest-physical address of the top-level table.
    root: u64,
    /// The page translated last: (virtual page, physical page, page size mask).
    last: Option<(u64, u64, u64)>,
}

impl<'a> PageWalker<'a> {
    /// A walker of the tables at `root` (a guest-physical, 4 KiB-aligned PML4).
    pub fn new(mem: &'a GuestMem, root: u64) -> PageWalker<'a> {
        PageWalker {
            mem,
            root: root & PTE_ADDR,
            last: None,
        }
    }

    /// The guest-physical address of `va`, or `None` if it is not mapped.
    pub fn translate(&mut self, va: u64) -> Option<u64> {
        if let Some((vpage, ppage, mask)) = self.last
            && va & !mask == vpage
        {
            return Some(ppage | (va & mask));
        }
        let mut table = self.root;
        for level in (0..4).rev() {
            let index = (va >> (12 + 9 * level)) & 511;
            let [entry] = memory::read_u64s::<1>(self.mem, table + index * 8)?;
            if entry & PTE_PRESENT == 0 {
                return None;
            }
            // 1 GiB pages at level 2 (PDPT), 2 MiB pages at level 1 (PD).
            if level == 0 || (entry & PTE_HUGE != 0 && (level == 1 || level == 2)) {
                let mask = (1u64 << (12 + 9 * level)) - 1;
                let ppage = entry & PTE_ADDR & !mask;
                self.last = Some((va & !mask, ppage, mask));
                return Some(ppage | (va & mask));
            }
            table = entry & PTE_ADDR;
        }
        None
    }

    /// Reads the byte at guest-virtual `va` (an instruction's first byte).
    pub fn read_u8(&mut self, va: u64) -> Option<u8> {
        let pa = self.translate(va)?;
        memory::read_bytes(self.mem, pa, 1).map(|b| b[0])
    }

    /// Reads the u64 at guest-virtual `va` (8-aligned).
    pub fn read_u64(&mut self, va: u64) -> Option<u64> {
        if !va.is_multiple_of(8) {
            return None;
        }
        let pa = self.translate(va)?;
        memory::read_u64s::<1>(self.mem, pa).map(|[w]| w)
    }
}

/// Guest memory with page tables, for the tests of the stack walkers.
#[cfg(test)]
pub(crate) mod fixture {
    use super::*;
    use vm_memory::{Bytes, GuestAddress};

    /// Writes `v` at guest-physical `pa`.
    pub(crate) fn w(mem: &GuestMem, pa: u64, v: u64) {
        mem.write_obj(v, GuestAddress(pa)).unwrap();
    }

    /// Tables at 0x10000: user page 0x40_0000 -> 0x5000 and 0x47_47f000 ->
    /// 0x6000 (4 KiB pages), the direct map's first GiB as a 1 GiB page and
    /// the kernel image's first 2 MiB as a 2 MiB page at 0x20_0000.
    pub(crate) fn tables(mem: &GuestMem) -> u64 {
        let pml4 = 0x10000;
        let (pdpt_lo, pd_lo, pt_lo) = (0x11000, 0x12000, 0x13000);
        let (pdpt_dm, pdpt_k, pd_k) = (0x14000, 0x15000, 0x16000);
        let f = PTE_PRESENT | 2 | 4;
        w(mem, pml4, pdpt_lo | f);
        w(mem, pdpt_lo, pd_lo | f);
        w(mem, pd_lo + 2 * 8, pt_lo | f); // 0x40_0000 is PD index 2
        w(mem, pt_lo, 0x5000 | f);
        // 0x4747_f000: PDPT 1, PD 0x3a, PT 0x7f.
        let (pd_hi, pt_hi) = (0x17000, 0x18000);
        w(mem, pdpt_lo + 8, pd_hi | f);
        w(mem, pd_hi + 0x3a * 8, pt_hi | f);
        w(mem, pt_hi + 0x7f * 8, 0x6000 | f);
        // Direct map at 0xffff_8880_0000_0000: PML4 273, 1 GiB page.
        w(mem, pml4 + 273 * 8, pdpt_dm | f);
        w(mem, pdpt_dm, f | PTE_HUGE);
        // Kernel image at 0xffff_ffff_8000_0000: PML4 511, PDPT 510, 2 MiB pages.
        w(mem, pml4 + 511 * 8, pdpt_k | f);
        w(mem, pdpt_k + 510 * 8, pd_k | f);
        w(mem, pd_k + 8, 0x20_0000 | f | PTE_HUGE);
        pml4
    }
}

#[cfg(test)]
mod tests {
    use super::fixture::{tables, w};
    use super::*;

    #[test]
    fn translates_4k_2m_and_1g_pages() {
        let mem = memory::create(4 << 20).unwrap();
        let root = tables(&mem);
        let mut p = PageWalker::new(&mem, root);
        assert_eq!(p.translate(0x40_0123), Some(0x5123));
        assert_eq!(p.translate(0x40_1000), None);
        assert_eq!(p.translate(0x4747_fff8), Some(0x6ff8));
        assert_eq!(p.translate(0xffff_8880_0012_3456), Some(0x12_3456));
        assert_eq!(p.translate(0xffff_ffff_8020_0010), Some(0x20_0010));
        assert_eq!(p.translate(0xffff_ffff_8040_0000), None);
        // The cached page does not leak into its neighbours.
        assert_eq!(p.translate(0x40_0fff), Some(0x5fff));
        assert_eq!(p.translate(0x3f_f000), None);
        assert_eq!(p.read_u64(0x40_0004), None, "unaligned");
        w(&mem, 0x5010, 0xabcd);
        assert_eq!(p.read_u64(0x40_0010), Some(0xabcd));
    }
}
