//! Waiting for a child process with a deadline, woken the moment it exits.
//!
//! A poll loop of `try_wait` and sleeps adds half its interval to every
//! run on average, which is more than a whole VM of a short test takes, so
//! the wait sleeps in `poll(2)` on the child's pidfd instead: the kernel
//! wakes it when the child exits, or at the deadline. Where pidfds are not
//! available (Linux before 5.3) it falls back to short sleeps.

use std::io;
use std::process::{Child, ExitStatus};
use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags, Timespec, poll};
use rustix::io::Errno;
use rustix::process::{Pid, PidfdFlags, pidfd_open};

/// The sleep between checks when the child has no pidfd.
const FALLBACK_INTERVAL: Duration = Duration::from_millis(2);

/// Waits for `child` to exit, until `deadline`: its status, or `None` if it
/// is still running at the deadline (it is left running). Fails only if the
/// child cannot be waited for (`try_wait` fails).
pub fn wait_until(child: &mut Child, deadline: Instant) -> io::Result<Option<ExitStatus>> {
    let pidfd = pidfd_open(Pid::from_child(child), PidfdFlags::empty()).ok();
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(None);
        }
        let timeout = Timespec::try_from(left).ok();
        let waited = match &pidfd {
            Some(fd) => {
                let mut fds = [PollFd::new(fd, PollFlags::IN)];
                poll(&mut fds, timeout.as_ref()).map(drop)
            }
            None => Err(Errno::NOSYS),
        };
        match waited {
            // Exited, timed out or interrupted: the loop's checks tell which.
            Ok(()) | Err(Errno::INTR) => {}
            Err(_) => std::thread::sleep(left.min(FALLBACK_INTERVAL)),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::process::Command;
    use std::time::{Duration, Instant};

    use super::wait_until;

    #[test]
    fn an_exit_is_seen_at_once_and_a_deadline_is_kept() {
        let mut quick = Command::new("sh").args(["-c", "exit 7"]).spawn().unwrap();
        let far = Instant::now() + Duration::from_secs(30);
        let status = wait_until(&mut quick, far).unwrap().unwrap();
        assert_eq!(status.code(), Some(7));

        let mut slow = Command::new("sleep").arg("30").spawn().unwrap();
        let started = Instant::now();
        let soon = started + Duration::from_millis(100);
        assert!(wait_until(&mut slow, soon).unwrap().is_none());
        assert!(started.elapsed() >= Duration::from_millis(100));
        slow.kill().unwrap();
        let status = wait_until(&mut slow, far).unwrap().unwrap();
        assert_eq!(status.code(), None, "killed by a signal");
    }
}
