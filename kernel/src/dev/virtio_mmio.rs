//! The virtio-mmio (version 2) transport: the register window of one device,
//! the status handshake, feature negotiation and queue setup.
//!
//! Register offsets and status bits follow the virtio 1.x specification
//! (§4.2.2); every register is accessed 32 bits wide, the only width the VMM
//! serves. The device-specific configuration space starts at [`CONFIG`].

use super::BlockError;
use super::virtqueue::{MAX_SIZE, Virtqueue};
use crate::arch::mmio;

const MAGIC_VALUE: u64 = 0x000;
const VERSION: u64 = 0x004;
const DEVICE_ID: u64 = 0x008;
const DEVICE_FEATURES: u64 = 0x010;
const DEVICE_FEATURES_SEL: u64 = 0x014;
const DRIVER_FEATURES: u64 = 0x020;
const DRIVER_FEATURES_SEL: u64 = 0x024;
const QUEUE_SEL: u64 = 0x030;
const QUEUE_NUM_MAX: u64 = 0x034;
const QUEUE_NUM: u64 = 0x038;
const QUEUE_READY: u64 = 0x044;
const QUEUE_NOTIFY: u64 = 0x050;
const STATUS: u64 = 0x070;
const QUEUE_DESC_LOW: u64 = 0x080;
const QUEUE_DESC_HIGH: u64 = 0x084;
const QUEUE_DRIVER_LOW: u64 = 0x090;
const QUEUE_DRIVER_HIGH: u64 = 0x094;
const QUEUE_DEVICE_LOW: u64 = 0x0a0;
const QUEUE_DEVICE_HIGH: u64 = 0x0a4;
const CONFIG_GENERATION: u64 = 0x0fc;
/// Start of the device-specific configuration space.
pub const CONFIG: u64 = 0x100;

/// "virt", little-endian.
const MAGIC: u32 = 0x7472_6976;

const STATUS_ACKNOWLEDGE: u32 = 1;
const STATUS_DRIVER: u32 = 2;
const STATUS_DRIVER_OK: u32 = 4;
const STATUS_FEATURES_OK: u32 = 8;
const STATUS_FAILED: u32 = 0x80;

/// Feature bit: the device follows virtio 1.x (not legacy).
pub const F_VERSION_1: u64 = 1 << 32;

/// Device ID of a block device.
pub const DEVICE_ID_BLOCK: u32 = 2;

/// One device's register window, at a guest-physical address.
#[derive(Clone, Copy, Debug)]
pub struct Transport {
    base: u64,
}

impl Transport {
    /// Checks that a virtio-mmio v2 device of kind `device_id` sits at `base`.
    pub fn probe(base: u64, device_id: u32) -> Result<Transport, BlockError> {
        let t = Transport { base };
        if t.read(MAGIC_VALUE) != MAGIC || t.read(VERSION) != 2 {
            return Err(BlockError::BadDevice);
        }
        match t.read(DEVICE_ID) {
            0 => Err(BlockError::NoDevice),
            id if id == device_id => Ok(t),
            _ => Err(BlockError::BadDevice),
        }
    }

    /// Resets the device and negotiates features: the device must offer every
    /// bit of `required`; only those bits are accepted. Leaves the device in
    /// the FEATURES_OK state, ready for queue setup.
    pub fn negotiate(&self, required: u64) -> Result<(), BlockError> {
        self.write(STATUS, 0);
        if self.read(STATUS) != 0 {
            return Err(BlockError::BadDevice);
        }
        self.write(STATUS, STATUS_ACKNOWLEDGE);
        self.write(STATUS, STATUS_ACKNOWLEDGE | STATUS_DRIVER);

        self.write(DEVICE_FEATURES_SEL, 0);
        let low = self.read(DEVICE_FEATURES) as u64;
        self.write(DEVICE_FEATURES_SEL, 1);
        let high = self.read(DEVICE_FEATURES) as u64;
        let offered = high << 32 | low;
        if offered & required != required {
            self.fail();
            return Err(BlockError::FeaturesRejected);
        }
        self.write(DRIVER_FEATURES_SEL, 0);
        self.write(DRIVER_FEATURES, required as u32);
        self.write(DRIVER_FEATURES_SEL, 1);
        self.write(DRIVER_FEATURES, (required >> 32) as u32);

        let status = STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK;
        self.write(STATUS, status);
        if self.read(STATUS) & STATUS_FEATURES_OK == 0 {
            self.fail();
            return Err(BlockError::FeaturesRejected);
        }
        Ok(())
    }

    /// Sets up queue `index` with min(QueueNumMax, [`MAX_SIZE`]) entries
    /// (rounded down to a power of two) in a fresh kernel page.
    pub fn setup_queue(&self, index: u32) -> Result<Virtqueue, BlockError> {
        self.write(QUEUE_SEL, index);
        if self.read(QUEUE_READY) != 0 {
            return Err(BlockError::BadDevice);
        }
        let max = self.read(QUEUE_NUM_MAX).min(MAX_SIZE as u32);
        if max < 4 {
            return Err(BlockError::BadDevice);
        }
        let size = 1u16 << (31 - max.leading_zeros());
        let pa = crate::mm::palloc::alloc_kernel_pages(1).ok_or(BlockError::OutOfMemory)?;
        let va = crate::mm::phys_to_virt(pa) as *mut u8;
        // SAFETY: the page was just allocated (zeroed, 4 KiB-aligned) for this
        // queue alone; it stays allocated for the device's lifetime.
        let Some(q) = (unsafe { Virtqueue::new(va, pa, size) }) else {
            crate::mm::palloc::free_kernel_pages(pa, 1);
            return Err(BlockError::BadDevice);
        };
        self.write(QUEUE_NUM, size as u32);
        self.write64(QUEUE_DESC_LOW, QUEUE_DESC_HIGH, q.desc_pa());
        self.write64(QUEUE_DRIVER_LOW, QUEUE_DRIVER_HIGH, q.avail_pa());
        self.write64(QUEUE_DEVICE_LOW, QUEUE_DEVICE_HIGH, q.used_pa());
        self.write(QUEUE_READY, 1);
        if self.read(QUEUE_READY) != 1 {
            self.write(STATUS, 0);
            crate::mm::palloc::free_kernel_pages(pa, 1);
            return Err(BlockError::BadDevice);
        }
        Ok(q)
    }

    /// Tells the device the driver is ready (DRIVER_OK).
    pub fn driver_ok(&self) {
        let status = self.read(STATUS);
        self.write(STATUS, status | STATUS_DRIVER_OK);
    }

    /// Marks the driver as given up on the device (FAILED).
    pub fn fail(&self) {
        let status = self.read(STATUS);
        self.write(STATUS, status | STATUS_FAILED);
    }

    /// Notifies the device that queue `index` has new buffers.
    pub fn notify(&self, index: u32) {
        self.write(QUEUE_NOTIFY, index);
    }

    /// Reads a 64-bit little-endian field of the configuration space at
    /// `offset` (from [`CONFIG`]), retrying if the device changes it meanwhile.
    pub fn config_read64(&self, offset: u64) -> u64 {
        loop {
            let generation = self.read(CONFIG_GENERATION);
            let low = self.read(CONFIG + offset) as u64;
            let high = self.read(CONFIG + offset + 4) as u64;
            if self.read(CONFIG_GENERATION) == generation {
                return high << 32 | low;
            }
        }
    }

    fn read(&self, reg: u64) -> u32 {
        mmio::read32(self.base + reg)
    }

    fn write(&self, reg: u64, value: u32) {
        mmio::write32(self.base + reg, value);
    }

    fn write64(&self, low: u64, high: u64, value: u64) {
        self.write(low, value as u32);
        self.write(high, (value >> 32) as u32);
    }
}
