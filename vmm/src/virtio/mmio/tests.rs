//! Host tests of the virtio-mmio register model.
use super::*;

fn rd(t: &MmioTransport, off: u64) -> u32 {
    let mut b = [0u8; 4];
    t.read(off, &mut b);
    u32::from_le_bytes(b)
}

fn wr(t: &mut MmioTransport, off: u64, v: u32) -> WriteEffect {
    t.write(off, &v.to_le_bytes())
}

#[test]
fn identification_and_config() {
    let t = MmioTransport::new(2, 0, 2048u64.to_le_bytes().to_vec());
    assert_eq!(rd(&t, reg::MAGIC), MAGIC);
    assert_eq!(rd(&t, reg::VERSION), 2);
    assert_eq!(rd(&t, reg::DEVICE_ID), 2);
    assert_eq!(rd(&t, reg::QUEUE_NUM_MAX), 256);
    assert_eq!(rd(&t, reg::CONFIG), 2048);
    assert_eq!(rd(&t, reg::CONFIG + 4), 0);
    let mut b8 = [0u8; 8];
    t.read(reg::CONFIG, &mut b8);
    assert_eq!(u64::from_le_bytes(b8), 2048);
    let mut b1 = [0u8; 1];
    t.read(reg::CONFIG + 1, &mut b1);
    assert_eq!(b1[0], 8);
    assert_eq!(rd(&t, reg::CONFIG + 0x100), 0);
}

#[test]
fn feature_negotiation() {
    let mut t = MmioTransport::new(2, 0, vec![]);
    assert_eq!(rd(&t, reg::DEVICE_FEATURES), 0);
    wr(&mut t, reg::DEVICE_FEATURES_SEL, 1);
    assert_eq!(rd(&t, reg::DEVICE_FEATURES), 1);
    wr(&mut t, reg::STATUS, status::ACKNOWLEDGE | status::DRIVER);
    // A feature the device does not offer makes FEATURES_OK fail.
    wr(&mut t, reg::DRIVER_FEATURES_SEL, 0);
    wr(&mut t, reg::DRIVER_FEATURES, 1 << 5);
    wr(&mut t, reg::DRIVER_FEATURES_SEL, 1);
    wr(&mut t, reg::DRIVER_FEATURES, 1);
    wr(&mut t, reg::STATUS, 3 | status::FEATURES_OK);
    assert_eq!(rd(&t, reg::STATUS) & status::FEATURES_OK, 0);
    // Reset and do it right.
    assert_eq!(wr(&mut t, reg::STATUS, 0), WriteEffect::Reset);
    wr(&mut t, reg::STATUS, 3);
    wr(&mut t, reg::DRIVER_FEATURES_SEL, 1);
    wr(&mut t, reg::DRIVER_FEATURES, 1);
    wr(&mut t, reg::STATUS, 3 | status::FEATURES_OK);
    assert_ne!(rd(&t, reg::STATUS) & status::FEATURES_OK, 0);
    assert_eq!(t.driver_features(), F_VERSION_1);
}

#[test]
fn queue_setup_and_activation() {
    let mut t = MmioTransport::new(2, 0, vec![]);
    // Queue registers are ignored before FEATURES_OK.
    wr(&mut t, reg::QUEUE_NUM, 16);
    assert_eq!(t.queue.size(), 256);
    wr(&mut t, reg::STATUS, 3);
    wr(&mut t, reg::DRIVER_FEATURES_SEL, 1);
    wr(&mut t, reg::DRIVER_FEATURES, 1);
    wr(&mut t, reg::STATUS, 0xb);
    wr(&mut t, reg::QUEUE_SEL, 0);
    wr(&mut t, reg::QUEUE_NUM, 16);
    wr(&mut t, reg::QUEUE_DESC_LOW, 0x1000);
    wr(&mut t, reg::QUEUE_DRIVER_LOW, 0x2000);
    wr(&mut t, reg::QUEUE_DEVICE_LOW, 0x3000);
    wr(&mut t, reg::QUEUE_READY, 1);
    assert_eq!(rd(&t, reg::QUEUE_READY), 1);
    assert_eq!(t.queue.size(), 16);
    assert_eq!(t.queue.desc_table(), 0x1000);
    assert_eq!(t.queue.avail_ring(), 0x2000);
    assert_eq!(t.queue.used_ring(), 0x3000);
    assert!(!t.is_active());
    assert_eq!(wr(&mut t, reg::STATUS, 0xf), WriteEffect::Activated);
    assert!(t.is_active());
    // Layout is frozen once running.
    wr(&mut t, reg::QUEUE_DESC_LOW, 0x5000);
    assert_eq!(t.queue.desc_table(), 0x1000);
    assert_eq!(wr(&mut t, reg::QUEUE_NOTIFY, 0), WriteEffect::Notify);
    t.interrupt_status.store(INT_VRING, Ordering::SeqCst);
    assert_eq!(rd(&t, reg::INTERRUPT_STATUS), 1);
    wr(&mut t, reg::INTERRUPT_ACK, 1);
    assert_eq!(rd(&t, reg::INTERRUPT_STATUS), 0);
    wr(&mut t, reg::STATUS, 0);
    assert!(!t.is_active());
    assert_eq!(t.queue.size(), 256);
}

#[test]
fn driver_ok_without_queue_needs_reset() {
    let mut t = MmioTransport::new(2, 0, vec![]);
    wr(&mut t, reg::STATUS, 3);
    wr(&mut t, reg::DRIVER_FEATURES_SEL, 1);
    wr(&mut t, reg::DRIVER_FEATURES, 1);
    wr(&mut t, reg::STATUS, 0xb);
    assert_eq!(wr(&mut t, reg::STATUS, 0xf), WriteEffect::None);
    assert_ne!(t.status() & status::NEEDS_RESET, 0);
    assert!(!t.is_active());
}

#[test]
fn odd_widths_are_harmless() {
    let mut t = MmioTransport::new(2, 0, vec![]);
    let mut b = [0xffu8; 2];
    t.read(reg::MAGIC, &mut b);
    assert_eq!(b, [0, 0]);
    assert_eq!(t.write(reg::STATUS, &[1, 2]), WriteEffect::None);
    assert_eq!(t.status(), 0);
}

/// Every register the window holds reads as an exit would answer it, after
/// attaching and after each write (selectors, status, reset).
#[test]
fn the_window_answers_every_read_as_the_exit_would() {
    let windows = crate::virtio::window::RegisterWindows::unmapped(1);
    let mut t = MmioTransport::new(2, 0, 0x1122_3344_5566_7788u64.to_le_bytes().to_vec());
    t.attach_window(windows.window(0).unwrap());
    let same = |t: &MmioTransport| {
        for offset in (0..reg::CONFIG + 8).step_by(4) {
            assert_eq!(
                windows.word(0, offset),
                rd(t, offset),
                "register {offset:#x}"
            );
        }
    };
    same(&t);
    assert_eq!(windows.word(0, reg::CONFIG), 0x5566_7788);
    for (offset, value) in [
        (reg::DEVICE_FEATURES_SEL, 1),
        (reg::STATUS, status::ACKNOWLEDGE | status::DRIVER),
        (reg::QUEUE_SEL, 1),
        (reg::QUEUE_SEL, 0),
        (reg::QUEUE_NOTIFY, 0),
        (reg::STATUS, 0),
    ] {
        wr(&mut t, offset, value);
        same(&t);
    }
    t.set_needs_reset();
    same(&t);
    assert_ne!(windows.word(0, reg::STATUS) & status::NEEDS_RESET, 0);
}
