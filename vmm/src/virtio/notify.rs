//! How a guest's queue notifications are served. At first the notifying
//! MMIO write exits to the VMM. For the file-system disk the VMM serves the
//! queue right there on the vCPU thread: its requests are short reads, most
//! of them at start-up, and handing them to the device thread costs a
//! wake-up each. The swap disk's go to its device thread, so that paging I/O
//! overlaps the guest (the kernel runs other processes meanwhile). Once a
//! disk has been notified [`IOEVENTFD_AFTER`] times through the VMM, its
//! notify eventfd is registered as an ioeventfd, so that KVM wakes the
//! device thread without leaving the kernel. Registering an ioeventfd makes the VM's teardown wait for a
//! host grace period (about 14 ms on a PVM host), which a short run should
//! not pay; a busy disk earns it back in a few hundred notifications.

use kvm_ioctls::{IoEventAddress, NoDatamatch, VmFd};

use super::block::Disk;
use super::mmio::reg;
use crate::memory::GuestMem;

/// Notifications through the VMM before a disk gets its ioeventfd.
pub const IOEVENTFD_AFTER: u32 = 256;

/// Per disk: whether the VMM serves it inline, and the count of the
/// notifications the VMM has passed on.
#[derive(Debug, Default)]
pub struct NotifyRoutes {
    inline: Vec<bool>,
    seen: Vec<u32>,
}

impl NotifyRoutes {
    /// Routes for disks whose notifications the VMM serves on the vCPU
    /// thread (`true`) or hands to their device thread (`false`).
    pub fn new(inline: Vec<bool>) -> NotifyRoutes {
        NotifyRoutes {
            seen: vec![0; inline.len()],
            inline,
        }
    }

    /// Passes a notification of disk `index` on (serves its requests on this
    /// thread, or kicks its device thread) and, at the threshold, registers
    /// its ioeventfd. A failed registration leaves the route through the
    /// VMM, which keeps working.
    pub fn notified(&mut self, vm: &VmFd, mem: &GuestMem, index: usize, disk: &Disk) {
        if self.inline.get(index).copied().unwrap_or(false) {
            disk.serve_now(mem);
        } else {
            disk.kick();
        }
        let Some(seen) = self.seen.get_mut(index) else {
            return;
        };
        *seen = seen.saturating_add(1);
        if *seen == IOEVENTFD_AFTER {
            let addr = IoEventAddress::Mmio(disk.mmio_base + reg::QUEUE_NOTIFY);
            let _ = vm.register_ioevent(disk.notify_eventfd(), &addr, NoDatamatch);
        }
    }

    /// Whether disk `index` has its ioeventfd (as far as this count knows).
    pub fn in_kernel(&self, index: usize) -> bool {
        self.seen.get(index).is_some_and(|&n| n >= IOEVENTFD_AFTER)
    }
}
