//! Waiting for a descriptor with a way out: the stub's helper threads (the
//! connection watcher, the refuser of second clients) sleep in `poll` on
//! their socket and on an eventfd, so that ending them is immediate rather
//! than a poll interval later (a detach or the guest's exit waited up to
//! 100 ms for them).

use std::os::fd::{AsRawFd, RawFd};

use anyhow::{Context, Result};
use vmm_sys_util::eventfd::{EFD_NONBLOCK, EventFd};

/// What a [`Wake::poll`] saw.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Polled {
    /// The descriptor is readable (or closed, or in error).
    Ready,
    /// [`Wake::wake`] was called (it stays so).
    Woken,
    /// Neither, before the timeout (or a signal interrupted the wait).
    Nothing,
}

/// A wake-up for threads sleeping in [`Wake::poll`].
pub struct Wake(EventFd);

impl Wake {
    /// A new wake-up, not yet woken. Fails if no eventfd can be made.
    pub fn new() -> Result<Wake> {
        EventFd::new(EFD_NONBLOCK)
            .map(Wake)
            .context("--gdb: creating an eventfd")
    }

    /// Wakes every present and future [`Wake::poll`].
    pub fn wake(&self) {
        // Best effort: the counter can only fail to grow if it is already
        // huge, and then it is readable anyway.
        let _ = self.0.write(1);
    }

    /// Waits up to `ms` milliseconds (-1: for ever) for `fd` to become
    /// readable or for [`Wake::wake`]. A wake-up wins over a readable `fd`.
    pub fn poll(&self, fd: RawFd, ms: i32) -> Polled {
        let mut fds = [
            libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: self.0.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        // SAFETY: two valid pollfds; `fd` is open (the caller's) and so is
        // the eventfd (ours).
        let n = unsafe { libc::poll(fds.as_mut_ptr(), 2, ms) };
        if n <= 0 {
            Polled::Nothing
        } else if fds[1].revents != 0 {
            Polled::Woken
        } else {
            Polled::Ready
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::unix::net::UnixStream;

    #[test]
    fn a_wake_up_ends_the_wait_and_outranks_a_readable_descriptor() {
        let (mut a, b) = UnixStream::pair().unwrap();
        let wake = Wake::new().unwrap();
        assert_eq!(wake.poll(b.as_raw_fd(), 0), Polled::Nothing);
        a.write_all(b"x").unwrap();
        assert_eq!(wake.poll(b.as_raw_fd(), -1), Polled::Ready);
        wake.wake();
        assert_eq!(wake.poll(b.as_raw_fd(), -1), Polled::Woken);
        assert_eq!(wake.poll(b.as_raw_fd(), -1), Polled::Woken);
    }
}
