//! The virtio-mmio transport (version 2, "modern"): the register window of one
//! device with a single split virtqueue. The vCPU loop forwards MMIO reads and
//! writes here; queue processing happens in the device (see `block.rs`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use virtio_queue::{Queue, QueueT};

use super::window::Window;

/// "virt".
pub const MAGIC: u32 = 0x7472_6976;
/// Transport version 2.
pub const VERSION: u32 = 2;
/// VIRTIO_F_VERSION_1.
pub const F_VERSION_1: u64 = 1 << 32;
/// Largest queue the devices offer.
pub const QUEUE_SIZE_MAX: u16 = 256;

/// Register offsets.
pub mod reg {
    /// `"virt"` (0x74726976), read-only.
    pub const MAGIC: u64 = 0x000;
    /// The transport version: 2 (modern virtio-mmio).
    pub const VERSION: u64 = 0x004;
    /// The device type (2 for a block device).
    pub const DEVICE_ID: u64 = 0x008;
    /// The vendor id (ours reads 0).
    pub const VENDOR_ID: u64 = 0x00c;
    /// 32 bits of the device's features, the half `DEVICE_FEATURES_SEL` picks.
    pub const DEVICE_FEATURES: u64 = 0x010;
    /// Which 32-bit half of the device's features `DEVICE_FEATURES` shows.
    pub const DEVICE_FEATURES_SEL: u64 = 0x014;
    /// 32 bits of the features the driver accepts, the half `DRIVER_FEATURES_SEL` picks.
    pub const DRIVER_FEATURES: u64 = 0x020;
    /// Which 32-bit half of the driver's features `DRIVER_FEATURES` sets.
    pub const DRIVER_FEATURES_SEL: u64 = 0x024;
    /// The queue the `QUEUE_*` registers refer to.
    pub const QUEUE_SEL: u64 = 0x030;
    /// The largest size the selected queue may have (0: no such queue).
    pub const QUEUE_NUM_MAX: u64 = 0x034;
    /// The size the driver chose for the selected queue.
    pub const QUEUE_NUM: u64 = 0x038;
    /// 1 once the driver has set the selected queue up; 0 to stop it.
    pub const QUEUE_READY: u64 = 0x044;
    /// Written with a queue's index when it has new buffers.
    pub const QUEUE_NOTIFY: u64 = 0x050;
    /// Why the device interrupted ([`super::INT_VRING`]).
    pub const INTERRUPT_STATUS: u64 = 0x060;
    /// Written to acknowledge the bits of `INTERRUPT_STATUS`.
    pub const INTERRUPT_ACK: u64 = 0x064;
    /// The driver's progress ([`super::status`]); writing 0 resets the device.
    pub const STATUS: u64 = 0x070;
    /// Low 32 bits of the selected queue's descriptor table address.
    pub const QUEUE_DESC_LOW: u64 = 0x080;
    /// High 32 bits of the descriptor table address.
    pub const QUEUE_DESC_HIGH: u64 = 0x084;
    /// Low 32 bits of the selected queue's available (driver) ring address.
    pub const QUEUE_DRIVER_LOW: u64 = 0x090;
    /// High 32 bits of the available ring address.
    pub const QUEUE_DRIVER_HIGH: u64 = 0x094;
    /// Low 32 bits of the selected queue's used (device) ring address.
    pub const QUEUE_DEVICE_LOW: u64 = 0x0a0;
    /// High 32 bits of the used ring address.
    pub const QUEUE_DEVICE_HIGH: u64 = 0x0a4;
    /// Changes when the device configuration changes (ours never does).
    pub const CONFIG_GENERATION: u64 = 0x0fc;
    /// Start of the device-specific configuration (a disk's capacity in sectors).
    pub const CONFIG: u64 = 0x100;
}

/// Device status bits.
pub mod status {
    /// The driver has found the device.
    pub const ACKNOWLEDGE: u32 = 1;
    /// The driver knows how to drive it.
    pub const DRIVER: u32 = 2;
    /// The driver is ready: the device may use its queues.
    pub const DRIVER_OK: u32 = 4;
    /// The driver has accepted the features it wrote.
    pub const FEATURES_OK: u32 = 8;
    /// The device hit an error it cannot recover from without a reset.
    pub const NEEDS_RESET: u32 = 0x40;
    /// The driver gave up on the device.
    pub const FAILED: u32 = 0x80;
}

/// InterruptStatus bit: the used ring was updated.
pub const INT_VRING: u32 = 1;

/// What a register write asks of the device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteEffect {
    /// Nothing beyond the register's new value.
    None,
    /// The driver notified queue 0 (normally this arrives through the ioeventfd).
    Notify,
    /// The driver set DRIVER_OK with a usable queue: the device may run.
    Activated,
    /// The driver wrote 0 to Status.
    Reset,
}

/// Register state of one virtio-mmio device.
pub struct MmioTransport {
    device_id: u32,
    device_features: u64,
    config: Vec<u8>,
    device_features_sel: u32,
    driver_features_sel: u32,
    driver_features: u64,
    queue_sel: u32,
    status: u32,
    /// The device's only queue.
    pub queue: Queue,
    /// InterruptStatus, shared with whoever raises interrupts (who then
    /// calls [`MmioTransport::publish`]).
    pub interrupt_status: Arc<AtomicU32>,
    /// The guest's read-only copy of the registers, if it has one.
    window: Option<Window>,
}

impl MmioTransport {
    /// A device of type `device_id` offering `features` (VERSION_1 is added) with
    /// the given configuration space.
    pub fn new(device_id: u32, features: u64, config: Vec<u8>) -> MmioTransport {
        MmioTransport {
            device_id,
            device_features: features | F_VERSION_1,
            config,
            device_features_sel: 0,
            driver_features_sel: 0,
            driver_features: 0,
            queue_sel: 0,
            status: 0,
            queue: Queue::new(QUEUE_SIZE_MAX).expect("256 is a valid queue size"),
            interrupt_status: Arc::new(AtomicU32::new(0)),
            window: None,
        }
    }

    /// Gives the device a register window in guest memory and fills it.
    pub fn attach_window(&mut self, window: Window) {
        for (i, word) in self.config.chunks(4).enumerate() {
            let mut bytes = [0u8; 4];
            bytes[..word.len()].copy_from_slice(word);
            window.store(reg::CONFIG + 4 * i as u64, u32::from_le_bytes(bytes));
        }
        self.window = Some(window);
        self.publish();
    }

    /// Rewrites the registers of the window (if any) as a read would answer
    /// them now; the configuration space never changes.
    pub fn publish(&self) {
        if let Some(window) = &self.window {
            for offset in (0..reg::CONFIG).step_by(4) {
                window.store(offset, self.register(offset));
            }
        }
    }

    /// Whether the driver has finished set-up and the device may use the queue.
    pub fn is_active(&self) -> bool {
        self.status & status::DRIVER_OK != 0
            && self.status & (status::FAILED | status::NEEDS_RESET) == 0
            && self.queue.ready()
    }

    /// Marks the device broken (the driver must reset it).
    pub fn set_needs_reset(&mut self) {
        self.status |= status::NEEDS_RESET;
        self.publish();
    }

    /// The device status register.
    pub fn status(&self) -> u32 {
        self.status
    }

    /// The features the driver accepted.
    pub fn driver_features(&self) -> u64 {
        self.driver_features
    }

    fn reset(&mut self) {
        self.device_features_sel = 0;
        self.driver_features_sel = 0;
        self.driver_features = 0;
        self.queue_sel = 0;
        self.status = 0;
        self.queue.reset();
        self.interrupt_status.store(0, Ordering::SeqCst);
    }

    /// Serves a read of `data.len()` bytes at `offset` in the window.
    pub fn read(&self, offset: u64, data: &mut [u8]) {
        if offset >= reg::CONFIG {
            let start = (offset - reg::CONFIG) as usize;
            for (i, b) in data.iter_mut().enumerate() {
                *b = self.config.get(start + i).copied().unwrap_or(0);
            }
            return;
        }
        let value = if data.len() != 4 {
            0
        } else {
            self.register(offset)
        };
        let bytes = value.to_le_bytes();
        let n = data.len().min(4);
        data[..n].copy_from_slice(&bytes[..n]);
    }

    /// The 32-bit register at `offset` (below [`reg::CONFIG`]).
    fn register(&self, offset: u64) -> u32 {
        match offset {
            reg::MAGIC => MAGIC,
            reg::VERSION => VERSION,
            reg::DEVICE_ID => self.device_id,
            reg::VENDOR_ID => 0,
            reg::DEVICE_FEATURES => match self.device_features_sel {
                0 => self.device_features as u32,
                1 => (self.device_features >> 32) as u32,
                _ => 0,
            },
            reg::QUEUE_NUM_MAX if self.queue_sel == 0 => u32::from(QUEUE_SIZE_MAX),
            reg::QUEUE_READY if self.queue_sel == 0 => u32::from(self.queue.ready()),
            reg::INTERRUPT_STATUS => self.interrupt_status.load(Ordering::SeqCst),
            reg::STATUS => self.status,
            reg::CONFIG_GENERATION => 0,
            _ => 0,
        }
    }

    /// Serves a write of `data` at `offset` in the window, then brings the
    /// guest's copy of the registers up to date (a queue notification, the
    /// write of every disk request, changes no register: the drain that
    /// follows publishes what it changes).
    pub fn write(&mut self, offset: u64, data: &[u8]) -> WriteEffect {
        let effect = self.write_register(offset, data);
        if effect != WriteEffect::Notify {
            self.publish();
        }
        effect
    }

    fn write_register(&mut self, offset: u64, data: &[u8]) -> WriteEffect {
        if offset >= reg::CONFIG {
            return WriteEffect::None; // the block config space is read-only
        }
        let Ok(bytes) = <[u8; 4]>::try_from(data) else {
            return WriteEffect::None;
        };
        let v = u32::from_le_bytes(bytes);
        // Queue layout may change only while the driver sets the device up.
        let queue_setup = self.queue_sel == 0
            && self.status & status::FEATURES_OK != 0
            && self.status & (status::DRIVER_OK | status::FAILED) == 0;
        match offset {
            reg::DEVICE_FEATURES_SEL => self.device_features_sel = v,
            reg::DRIVER_FEATURES_SEL => self.driver_features_sel = v,
            reg::DRIVER_FEATURES => {
                let settable =
                    self.status & status::DRIVER != 0 && self.status & status::FEATURES_OK == 0;
                if settable && self.driver_features_sel < 2 {
                    let shift = 32 * self.driver_features_sel;
                    self.driver_features &= !(0xffff_ffffu64 << shift);
                    self.driver_features |= u64::from(v) << shift;
                }
            }
            reg::QUEUE_SEL => self.queue_sel = v,
            reg::QUEUE_NUM if queue_setup => self.queue.set_size(v as u16),
            reg::QUEUE_READY if queue_setup => self.queue.set_ready(v == 1),
            reg::QUEUE_DESC_LOW if queue_setup => self.queue.set_desc_table_address(Some(v), None),
            reg::QUEUE_DESC_HIGH if queue_setup => self.queue.set_desc_table_address(None, Some(v)),
            reg::QUEUE_DRIVER_LOW if queue_setup => {
                self.queue.set_avail_ring_address(Some(v), None)
            }
            reg::QUEUE_DRIVER_HIGH if queue_setup => {
                self.queue.set_avail_ring_address(None, Some(v))
            }
            reg::QUEUE_DEVICE_LOW if queue_setup => self.queue.set_used_ring_address(Some(v), None),
            reg::QUEUE_DEVICE_HIGH if queue_setup => {
                self.queue.set_used_ring_address(None, Some(v))
            }
            reg::QUEUE_NOTIFY => return WriteEffect::Notify,
            reg::INTERRUPT_ACK => {
                self.interrupt_status.fetch_and(!v, Ordering::SeqCst);
            }
            reg::STATUS => return self.write_status(v),
            _ => {}
        }
        WriteEffect::None
    }

    fn write_status(&mut self, v: u32) -> WriteEffect {
        if v == 0 {
            self.reset();
            return WriteEffect::Reset;
        }
        let old = self.status;
        let mut new = v;
        if new & status::FEATURES_OK != 0 && old & status::FEATURES_OK == 0 {
            let ok = self.driver_features & !self.device_features == 0
                && self.driver_features & F_VERSION_1 != 0;
            if !ok {
                new &= !status::FEATURES_OK;
            }
        }
        if new & status::DRIVER_OK != 0 && old & status::DRIVER_OK == 0 {
            if new & status::FEATURES_OK == 0 || !self.queue.ready() {
                new |= status::NEEDS_RESET;
            }
            self.status = new;
            return if self.is_active() {
                WriteEffect::Activated
            } else {
                WriteEffect::None
            };
        }
        self.status = new;
        WriteEffect::None
    }
}

#[cfg(test)]
mod tests;
