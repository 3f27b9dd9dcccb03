//! Guest RAM: one anonymous mapping at guest-physical 0, registered with KVM as
//! memory slot 0, and small checked helpers to read guest structures; and
//! [`populate_write`], a hint for large writes into the VMM's mappings.

use anyhow::{Context, Result};
use kvm_bindings::kvm_userspace_memory_region;
use kvm_ioctls::VmFd;
use vm_memory::{Bytes, GuestAddress, GuestMemoryBackend, GuestMemoryMmap, GuestMemoryRegion};

/// The guest's RAM.
pub type GuestMem = GuestMemoryMmap<()>;

/// Allocates `size` bytes of zeroed guest RAM at guest-physical 0.
pub fn create(size: u64) -> Result<GuestMem> {
    let len = usize::try_from(size).context("guest RAM size does not fit the host")?;
    GuestMemoryMmap::from_ranges(&[(GuestAddress(0), len)])
        .with_context(|| format!("cannot allocate {size} bytes of guest RAM"))
}

/// Asks the host to back guest RAM with transparent huge pages where it can,
/// so that the guest's 2 MiB mappings (its direct map) are shadowed 2 MiB at a
/// time. Advice only: a host without THP simply ignores it.
pub fn advise_huge_pages(mem: &GuestMem) {
    for region in mem.iter() {
        let Ok(host) = mem.get_host_address(region.start_addr()) else {
            continue;
        };
        // SAFETY: madvise on a live anonymous mapping owned by `mem`, over its
        // exact extent; MADV_HUGEPAGE changes no contents.
        unsafe {
            libc::madvise(host.cast(), region.len() as usize, libc::MADV_HUGEPAGE);
        }
    }
}

/// Registers every region of `mem` with the VM.
pub fn register(vm: &VmFd, mem: &GuestMem) -> Result<()> {
    for (slot, region) in mem.iter().enumerate() {
        let host = mem
            .get_host_address(region.start_addr())
            .context("guest RAM region has no host mapping")?;
        let r = kvm_userspace_memory_region {
            slot: slot as u32,
            guest_phys_addr: region.start_addr().0,
            memory_size: region.len(),
            userspace_addr: host as u64,
            flags: 0,
        };
        // SAFETY: the region describes a live mapping owned by `mem`, which the
        // caller keeps alive (it is moved into the VM object) for as long as the VM
        // exists; slots do not overlap because there is one region per slot.
        unsafe { vm.set_user_memory_region(r) }
            .with_context(|| format!("KVM_SET_USER_MEMORY_REGION slot {slot}"))?;
    }
    Ok(())
}

/// Maps the `len` bytes of host memory at `host` into `vm` read-only at
/// guest-physical `gpa`, as memory slot `slot`: guest reads are loads, guest
/// writes exit as MMIO. The caller keeps the memory mapped for as long as
/// the VM exists. Fails if KVM refuses the slot.
pub fn register_readonly(vm: &VmFd, slot: u32, gpa: u64, host: *mut u8, len: usize) -> Result<()> {
    let r = kvm_userspace_memory_region {
        slot,
        guest_phys_addr: gpa,
        memory_size: len as u64,
        userspace_addr: host as u64,
        flags: kvm_bindings::KVM_MEM_READONLY,
    };
    // SAFETY: the caller keeps the `len` bytes at `host` mapped for the VM's
    // lifetime (they belong to an object the VM owns); the slot number is
    // not used by guest RAM, so slots do not overlap.
    unsafe { vm.set_user_memory_region(r) }
        .with_context(|| format!("KVM_SET_USER_MEMORY_REGION slot {slot} (read-only)"))
}

/// Reads `len` bytes at guest-physical `addr`, or `None` if any of them is outside RAM.
pub fn read_bytes(mem: &GuestMem, addr: u64, len: usize) -> Option<Vec<u8>> {
    if !mem.check_range(GuestAddress(addr), len) {
        return None;
    }
    let mut buf = vec![0u8; len];
    mem.read_slice(&mut buf, GuestAddress(addr)).ok()?;
    Some(buf)
}

/// Reads `N` little-endian u64 words at guest-physical `addr`.
pub fn read_u64s<const N: usize>(mem: &GuestMem, addr: u64) -> Option<[u64; N]> {
    let bytes = read_bytes(mem, addr, N * 8)?;
    let mut out = [0u64; N];
    for (i, w) in out.iter_mut().enumerate() {
        *w = u64::from_le_bytes(bytes[i * 8..i * 8 + 8].try_into().ok()?);
    }
    Some(out)
}

/// Asks the host to make the pages of `len` bytes at `offset` in `region`
/// present and writable at once (`MADV_POPULATE_WRITE`): one call instead
/// of a page fault per page, for a large write about to cover them (a
/// private file mapping then holds its own copies). Only a hint: does
/// nothing where the host does not support it or the range is outside.
pub fn populate_write(region: &vm_memory::mmap::MmapRegion<()>, offset: usize, len: usize) {
    let page = 4096;
    let start = offset - offset % page;
    let Some(end) = offset.checked_add(len).filter(|&e| e <= region.size()) else {
        return;
    };
    // SAFETY: madvise on a live mapping owned by `region`, over a range
    // inside it; populating pages changes no byte of their contents.
    unsafe {
        libc::madvise(
            region.as_ptr().add(start).cast(),
            end - start,
            libc::MADV_POPULATE_WRITE,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_checked() {
        let mem = create(1 << 20).unwrap();
        mem.write_obj(0x1122_3344_5566_7788u64, GuestAddress(0x100))
            .unwrap();
        assert_eq!(read_u64s::<1>(&mem, 0x100), Some([0x1122_3344_5566_7788]));
        assert!(read_bytes(&mem, (1 << 20) - 4, 8).is_none());
        assert!(read_bytes(&mem, u64::MAX - 2, 8).is_none());
        assert_eq!(read_bytes(&mem, (1 << 20) - 4, 4), Some(vec![0; 4]));
    }
}
