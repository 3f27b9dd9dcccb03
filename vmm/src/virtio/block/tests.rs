//! Tests of the block device: requests served from mock queues, malformed
//! chains, draining and interrupts, and serving a disk at a notify.

use std::sync::atomic::Ordering;

use super::*;
use crate::memory::GuestMem;
use crate::virtio::backend::{Backend, MemBackend};
use crate::virtio::mmio::INT_VRING;
use virtio_queue::desc::RawDescriptor;
use virtio_queue::desc::split::Descriptor;
use virtio_queue::mock::MockSplitQueue;
use vm_memory::{Bytes, GuestAddress};
use vmm_sys_util::eventfd::{EFD_NONBLOCK, EventFd};

/// VRING_DESC_F_NEXT and VRING_DESC_F_WRITE.
const NEXT: u16 = 1;
const W: u16 = 2;
const HDR: u64 = 0x10_0000;
const DATA: u64 = 0x20_0000;
const STATUS: u64 = 0x30_0000;

fn mem() -> GuestMem {
    crate::memory::create(16 << 20).unwrap()
}

fn desc(addr: u64, len: u32, flags: u16) -> RawDescriptor {
    RawDescriptor::from(Descriptor::new(addr, len, flags, 0))
}

fn header(mem: &GuestMem, kind: u32, sector: u64) {
    let mut h = [0u8; 16];
    h[0..4].copy_from_slice(&kind.to_le_bytes());
    h[8..16].copy_from_slice(&sector.to_le_bytes());
    mem.write_slice(&h, GuestAddress(HDR)).unwrap();
}

/// Builds `descs` as a chain in a mock queue and serves it.
fn serve_chain(mem: &GuestMem, backend: &mut dyn Backend, descs: &[RawDescriptor]) -> Completion {
    mem.write_obj(0xffu8, GuestAddress(STATUS)).unwrap();
    let q = MockSplitQueue::new(mem, 16);
    let chain = q.build_desc_chain(descs).unwrap();
    let descs: Vec<Descriptor> = chain.collect();
    handle_chain(mem, &descs, backend, b"faultline-test\0\0\0\0\0\0")
}

fn status_byte(mem: &GuestMem) -> u8 {
    mem.read_obj(GuestAddress(STATUS)).unwrap()
}

fn disk() -> MemBackend {
    let mut b = MemBackend::new(64 * 512).unwrap();
    let pattern: Vec<u8> = (0..64 * 512).map(|i| (i / 512) as u8).collect();
    b.write_at(0, &pattern).unwrap();
    b
}

#[test]
fn read_request() {
    let mem = mem();
    let mut b = disk();
    header(&mem, req::IN, 3);
    let c = serve_chain(
        &mem,
        &mut b,
        &[desc(HDR, 16, 0), desc(DATA, 1024, W), desc(STATUS, 1, W)],
    );
    assert_eq!(
        c,
        Completion {
            status: Some(status::OK),
            used_len: 1025
        }
    );
    assert_eq!(status_byte(&mem), status::OK);
    let mut got = [0u8; 1024];
    mem.read_slice(&mut got, GuestAddress(DATA)).unwrap();
    assert!(got[..512].iter().all(|&x| x == 3));
    assert!(got[512..].iter().all(|&x| x == 4));
}

#[test]
fn write_request_with_several_data_descriptors() {
    let mem = mem();
    let mut b = disk();
    mem.write_slice(&[0xaa; 512], GuestAddress(DATA)).unwrap();
    mem.write_slice(&[0xbb; 512], GuestAddress(DATA + 0x1000))
        .unwrap();
    header(&mem, req::OUT, 62);
    let c = serve_chain(
        &mem,
        &mut b,
        &[
            desc(HDR, 16, 0),
            desc(DATA, 512, 0),
            desc(DATA + 0x1000, 512, 0),
            desc(STATUS, 1, W),
        ],
    );
    assert_eq!(
        c,
        Completion {
            status: Some(status::OK),
            used_len: 1
        }
    );
    let mut got = [0u8; 1024];
    b.read_at(62 * 512, &mut got).unwrap();
    assert!(got[..512].iter().all(|&x| x == 0xaa));
    assert!(got[512..].iter().all(|&x| x == 0xbb));
}

#[test]
fn get_id() {
    let mem = mem();
    let mut b = disk();
    header(&mem, req::GET_ID, 0);
    let c = serve_chain(
        &mem,
        &mut b,
        &[desc(HDR, 16, 0), desc(DATA, 20, W), desc(STATUS, 1, W)],
    );
    assert_eq!(
        c,
        Completion {
            status: Some(status::OK),
            used_len: 21
        }
    );
    let mut got = [0u8; 14];
    mem.read_slice(&mut got, GuestAddress(DATA)).unwrap();
    assert_eq!(&got, b"faultline-test");
}

#[test]
fn malformed_requests_get_an_error_status() {
    let mem = mem();
    let mut b = disk();
    let before = {
        let mut v = vec![0u8; 64 * 512];
        b.read_at(0, &mut v).unwrap();
        v
    };
    let cases: Vec<(&str, u32, u64, Vec<RawDescriptor>, u8)> = vec![
        (
            "beyond capacity",
            req::IN,
            63,
            vec![desc(HDR, 16, 0), desc(DATA, 1024, W), desc(STATUS, 1, W)],
            status::IOERR,
        ),
        (
            "sector overflow",
            req::IN,
            u64::MAX / 256,
            vec![desc(HDR, 16, 0), desc(DATA, 512, W), desc(STATUS, 1, W)],
            status::IOERR,
        ),
        (
            "not a sector multiple",
            req::IN,
            0,
            vec![desc(HDR, 16, 0), desc(DATA, 100, W), desc(STATUS, 1, W)],
            status::IOERR,
        ),
        (
            "read into a read-only buffer",
            req::IN,
            0,
            vec![desc(HDR, 16, 0), desc(DATA, 512, 0), desc(STATUS, 1, W)],
            status::IOERR,
        ),
        (
            "write from a write-only buffer",
            req::OUT,
            0,
            vec![desc(HDR, 16, 0), desc(DATA, 512, W), desc(STATUS, 1, W)],
            status::IOERR,
        ),
        (
            "short header",
            req::IN,
            0,
            vec![desc(HDR, 8, 0), desc(DATA, 512, W), desc(STATUS, 1, W)],
            status::IOERR,
        ),
        (
            "writable header",
            req::IN,
            0,
            vec![desc(HDR, 16, W), desc(DATA, 512, W), desc(STATUS, 1, W)],
            status::IOERR,
        ),
        (
            "data outside RAM",
            req::OUT,
            0,
            vec![desc(HDR, 16, 0), desc(16 << 20, 512, 0), desc(STATUS, 1, W)],
            status::IOERR,
        ),
        (
            "data straddling the end of RAM",
            req::IN,
            0,
            vec![
                desc(HDR, 16, 0),
                desc((16 << 20) - 512, 1024, W),
                desc(STATUS, 1, W),
            ],
            status::IOERR,
        ),
        (
            "header outside RAM",
            req::IN,
            0,
            vec![
                desc(0xffff_ffff_ffff_fff0, 16, 0),
                desc(DATA, 512, W),
                desc(STATUS, 1, W),
            ],
            status::IOERR,
        ),
        (
            "unknown type",
            4,
            0,
            vec![desc(HDR, 16, 0), desc(STATUS, 1, W)],
            status::UNSUPP,
        ),
    ];
    for (what, kind, sector, descs, want) in cases {
        header(&mem, kind, sector);
        let c = serve_chain(&mem, &mut b, &descs);
        assert_eq!(c.status, Some(want), "{what}");
        assert_eq!(status_byte(&mem), want, "{what}");
        assert_eq!(c.used_len, 1, "{what}");
    }
    let mut after = vec![0u8; 64 * 512];
    b.read_at(0, &mut after).unwrap();
    assert_eq!(before, after, "a rejected request changed the disk");
}

#[test]
fn chains_without_a_writable_status_are_dropped() {
    let mem = mem();
    let mut b = disk();
    header(&mem, req::IN, 0);
    let c = serve_chain(
        &mem,
        &mut b,
        &[desc(HDR, 16, 0), desc(DATA, 512, W), desc(STATUS, 1, 0)],
    );
    assert_eq!(
        c,
        Completion {
            status: None,
            used_len: 0
        }
    );
    let c = serve_chain(&mem, &mut b, &[desc(STATUS, 1, W)]);
    assert_eq!(
        c,
        Completion {
            status: None,
            used_len: 0
        }
    );
    let c = serve_chain(&mem, &mut b, &[desc(HDR, 16, 0), desc(16 << 20, 1, W)]);
    assert_eq!(
        c,
        Completion {
            status: None,
            used_len: 0
        }
    );
    assert_eq!(status_byte(&mem), 0xff);
}

#[test]
fn empty_read_is_ok() {
    let mem = mem();
    let mut b = disk();
    header(&mem, req::IN, 64);
    let c = serve_chain(&mem, &mut b, &[desc(HDR, 16, 0), desc(STATUS, 1, W)]);
    assert_eq!(
        c,
        Completion {
            status: Some(status::OK),
            used_len: 1
        }
    );
}

/// A device whose transport points at the mock queue, as a driver would set it up.
fn device_on(q: &MockSplitQueue<GuestMem>) -> BlockDevice {
    let mut dev = BlockDevice::new(Box::new(disk()), "t");
    dev.transport.queue = q.create_queue().unwrap();
    use crate::virtio::mmio::{reg, status as st};
    for (off, v) in [
        (reg::STATUS, st::ACKNOWLEDGE | st::DRIVER),
        (reg::DRIVER_FEATURES_SEL, 1),
        (reg::DRIVER_FEATURES, 1),
        (reg::STATUS, 0xb),
        (reg::STATUS, 0xf),
    ] {
        dev.transport.write(off, &v.to_le_bytes());
    }
    assert!(dev.transport.is_active());
    dev
}

#[test]
fn drain_completes_chains_and_raises_the_interrupt() {
    let mem = mem();
    let q = MockSplitQueue::new(&mem, 16);
    header(&mem, req::IN, 1);
    let descs = [
        desc(HDR, 16, 0),
        desc(DATA, 512, W),
        desc(STATUS, 1, W),
        desc(HDR, 16, 0),
        desc(DATA + 512, 512, W),
        desc(STATUS + 1, 1, W),
    ];
    let mut raw = Vec::new();
    for (i, d) in descs.iter().enumerate() {
        let d = Descriptor::from(*d);
        let next = i % 3 != 2;
        let flags = d.flags() | if next { NEXT } else { 0 };
        raw.push(RawDescriptor::from(Descriptor::new(
            d.addr().0,
            d.len(),
            flags,
            i as u16 + 1,
        )));
    }
    q.add_desc_chains(&raw, 0).unwrap();
    let mut dev = device_on(&q);
    let d = dev.drain(&mem);
    assert_eq!(
        d,
        Drain {
            completed: 2,
            notify: true,
            more: false
        }
    );
    assert_eq!(q.used().idx().load(), 2);
    assert_eq!(
        dev.transport.interrupt_status.load(Ordering::SeqCst),
        INT_VRING
    );
    let e0 = q.used().ring().ref_at(0).unwrap().load();
    assert_eq!((e0.id(), e0.len()), (0, 513));
    let mut got = [0u8; 1024];
    mem.read_slice(&mut got, GuestAddress(DATA)).unwrap();
    assert!(got.iter().all(|&x| x == 1));
    // Nothing more to do.
    assert_eq!(dev.drain(&mem).completed, 0);
}

#[test]
fn a_driver_that_polls_gets_no_interrupt() {
    let mem = mem();
    let q = MockSplitQueue::new(&mem, 16);
    header(&mem, req::IN, 1);
    q.build_desc_chain(&[desc(HDR, 16, 0), desc(DATA, 512, W), desc(STATUS, 1, W)])
        .unwrap();
    // VRING_AVAIL_F_NO_INTERRUPT in the available ring's flags.
    mem.write_obj(1u16, q.avail_addr()).unwrap();
    let mut dev = device_on(&q);
    let d = dev.drain(&mem);
    assert_eq!((d.completed, d.notify), (1, false));
    assert_eq!(status_byte(&mem), status::OK);
    assert_eq!(dev.transport.interrupt_status.load(Ordering::SeqCst), 0);
}

#[test]
fn inactive_device_does_nothing() {
    let mem = mem();
    let q = MockSplitQueue::new(&mem, 16);
    header(&mem, req::IN, 1);
    q.build_desc_chain(&[desc(HDR, 16, 0), desc(DATA, 512, W), desc(STATUS, 1, W)])
        .unwrap();
    let mut dev = BlockDevice::new(Box::new(disk()), "t");
    dev.transport.queue = q.create_queue().unwrap();
    assert_eq!(dev.drain(&mem).completed, 0);
}

#[test]
fn a_notify_is_served_on_the_calling_thread_to_the_last_chain() {
    let mem = mem();
    let q = MockSplitQueue::new(&mem, 16);
    header(&mem, req::IN, 2);
    q.build_desc_chain(&[desc(HDR, 16, 0), desc(DATA, 512, W), desc(STATUS, 1, W)])
        .unwrap();
    let dev = device_on(&q);
    let irq = EventFd::new(EFD_NONBLOCK).unwrap();
    let irq_seen = irq.try_clone().unwrap();
    let disk = Disk::new("t", 0, 5, dev, irq);
    disk.serve_now(&mem, true);
    // Served before the call returned, and the interrupt raised.
    assert_eq!(status_byte(&mem), status::OK);
    assert_eq!(irq_seen.read().unwrap(), 1);
    // Activation serves what is queued but is no notification.
    disk.serve_now(&mem, false);
    let s = disk.stats();
    assert_eq!(
        (s.notifies, s.requests, s.errors, s.interrupts),
        (1, 1, 0, 1)
    );
}
