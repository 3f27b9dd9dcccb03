//! A small fake machine for the host tests of the VM policy: a user pool of
//! a few frames in plain memory, page tables as hash maps whose entries the
//! tests' "user accesses" mark accessed and dirty like hardware does, a swap
//! disk of slots in memory (whose writes can be made to fail), a file in
//! memory, and a record of the TLB flushes and the out-of-memory kills.
use super::addr::{PhysAddr, SwapSlot, UserPage};
use super::file::Backing;
use super::hw::{Hw, IoError, Prot, Pte, Table};
use crate::mm::OutOfMemory;
use abi::layout::PAGE_SIZE;
use std::collections::HashMap;
use std::sync::Mutex;
use std::vec::Vec;

/// Guest-physical address of the fake pool's first frame.
pub const BASE: u64 = 0x10_0000;
const PAGE: usize = PAGE_SIZE as usize;

/// One fake page-table entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    pub pa: PhysAddr,
    pub prot: Prot,
    pub accessed: bool,
    pub dirty: bool,
}

/// A page table as a map; `maps_left` makes `map` of a new entry fail
/// after that many (a page-table page that cannot be had).
#[derive(Debug, Default)]
pub struct FakeTable {
    pub entries: HashMap<UserPage, Entry>,
    pub maps_left: Option<usize>,
    pub id: u64,
}

impl Table for FakeTable {
    fn map(&mut self, page: UserPage, pa: PhysAddr, prot: Prot) -> Result<(), OutOfMemory> {
        if !self.entries.contains_key(&page) {
            match &mut self.maps_left {
                Some(0) => return Err(OutOfMemory),
                Some(n) => *n -= 1,
                None => {}
            }
        }
        self.entries.insert(
            page,
            Entry {
                pa,
                prot,
                accessed: false,
                dirty: false,
            },
        );
        Ok(())
    }

    fn clear(&mut self, page: UserPage) -> Option<Pte> {
        self.entries.remove(&page).map(pte)
    }

    fn lookup(&self, page: UserPage) -> Option<Pte> {
        self.entries.get(&page).copied().map(pte)
    }

    fn flush(&mut self, _page: UserPage) {}

    fn is_loaded(&self) -> bool {
        false
    }

    fn test_and_clear_accessed(&mut self, page: UserPage) -> bool {
        self.entries
            .get_mut(&page)
            .is_some_and(|e| core::mem::take(&mut e.accessed))
    }

    fn token(&self) -> u64 {
        self.id
    }
}

fn pte(e: Entry) -> Pte {
    Pte {
        pa: e.pa,
        write: e.prot.write,
        accessed: e.accessed,
        dirty: e.dirty,
    }
}

/// The fake machine.
pub struct FakeHw {
    pub memory: Vec<[u8; PAGE]>,
    pub free: Vec<PhysAddr>,
    pub swap: Vec<[u8; PAGE]>,
    /// Swap writes fail while set.
    pub swap_broken: bool,
    pub flushes: usize,
    pub swap_writes: usize,
    pub swap_reads: usize,
    /// Pages all the swap reads moved.
    pub swap_pages_read: usize,
    /// New page tables get this `maps_left` (fail after so many maps).
    pub table_maps: Option<usize>,
    /// (pid, name) of every process the out-of-memory killer reported.
    pub kills: Vec<(u32, Vec<u8>)>,
    tables: u64,
}

impl FakeHw {
    /// A machine with `frames` user frames and `slots` swap slots.
    pub fn new(frames: usize, slots: usize) -> FakeHw {
        FakeHw {
            memory: vec![[0; PAGE]; frames],
            // Hand frames out lowest first.
            free: (0..frames as u64)
                .rev()
                .map(|i| PhysAddr::new(BASE + i * PAGE_SIZE))
                .collect(),
            swap: vec![[0; PAGE]; slots],
            swap_broken: false,
            flushes: 0,
            swap_writes: 0,
            swap_reads: 0,
            swap_pages_read: 0,
            table_maps: None,
            kills: Vec::new(),
            tables: 0,
        }
    }

    fn index(pa: PhysAddr) -> usize {
        ((pa.get() - BASE) / PAGE_SIZE) as usize
    }
}

impl Hw for FakeHw {
    type Table = FakeTable;

    fn new_table(&mut self) -> Result<FakeTable, OutOfMemory> {
        self.tables += 1;
        Ok(FakeTable {
            id: self.tables,
            maps_left: self.table_maps,
            ..FakeTable::default()
        })
    }

    fn alloc_frame(&mut self) -> Option<(PhysAddr, bool)> {
        self.free.pop().map(|pa| (pa, false))
    }

    fn free_frames(&self) -> usize {
        self.free.len()
    }

    fn free_frame(&mut self, pa: PhysAddr) {
        assert!(!self.free.contains(&pa), "double free of {pa:?}");
        // Poison freed frames so stale reads show.
        self.memory[Self::index(pa)].fill(0xdd);
        self.free.push(pa);
    }

    fn frame(&mut self, pa: PhysAddr) -> &mut [u8] {
        &mut self.memory[Self::index(pa)]
    }

    fn copy_frame(&mut self, dst: PhysAddr, src: PhysAddr) {
        let bytes = self.memory[Self::index(src)];
        self.memory[Self::index(dst)] = bytes;
    }

    fn swap_slots(&self) -> u32 {
        self.swap.len() as u32
    }

    fn table_budget(&self) -> usize {
        usize::MAX
    }

    fn swap_read(&mut self, pages: &[(SwapSlot, PhysAddr)]) -> Result<(), IoError> {
        self.swap_reads += 1;
        self.swap_pages_read += pages.len();
        for &(slot, pa) in pages {
            let bytes = *self.swap.get(slot.0 as usize).ok_or(IoError)?;
            self.memory[Self::index(pa)] = bytes;
        }
        Ok(())
    }

    fn swap_write(&mut self, pages: &[(SwapSlot, PhysAddr)]) -> Result<(), IoError> {
        if self.swap_broken {
            return Err(IoError);
        }
        self.swap_writes += 1;
        for &(slot, pa) in pages {
            let bytes = self.memory[Self::index(pa)];
            *self.swap.get_mut(slot.0 as usize).ok_or(IoError)? = bytes;
        }
        Ok(())
    }

    fn flush_all(&mut self, _loaded: bool) {
        self.flushes += 1;
    }

    fn report_oom_kill(&mut self, pid: u32, name: &[u8], _swap: (u32, u32)) {
        self.kills.push((pid, name.to_vec()));
    }
}

/// A file in memory.
#[derive(Debug, Default)]
pub struct MemFile(pub Mutex<Vec<u8>>);

impl MemFile {
    pub fn new(bytes: Vec<u8>) -> MemFile {
        MemFile(Mutex::new(bytes))
    }

    pub fn bytes(&self) -> Vec<u8> {
        self.0.lock().unwrap().clone()
    }
}

impl Backing for MemFile {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<usize, IoError> {
        let data = self.0.lock().unwrap();
        let start = (offset as usize).min(data.len());
        let n = buf.len().min(data.len() - start);
        buf[..n].copy_from_slice(&data[start..start + n]);
        Ok(n)
    }

    fn write_at(&self, buf: &[u8], offset: u64) -> Result<usize, IoError> {
        let mut data = self.0.lock().unwrap();
        let start = (offset as usize).min(data.len());
        let n = buf.len().min(data.len() - start);
        data[start..start + n].copy_from_slice(&buf[..n]);
        Ok(n)
    }
}
