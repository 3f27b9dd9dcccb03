//! Waiting for a child process with a deadline, woken the moment it exits,
//! and collecting its output on the waiting thread.
//!
//! A poll loop of `try_wait` and sleeps adds half its interval to every
//! run on average, which is more than a whole VM of a short test takes, so
//! the wait sleeps in `poll(2)` on the child's pidfd instead: the kernel
//! wakes it when the child exits, or at the deadline. Where pidfds are not
//! available (Linux before 5.3) it falls back to short sleeps.

use std::io::{self, Read};
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

/// Reads `child`'s standard output and error (both pipes) to their ends on
/// this thread, as they come (`poll(2)`, no reader threads: each costs
/// ~0.1 ms to start here, more than a short VM's output takes to read),
/// then waits for it to exit, all until `deadline`. Returns what was read
/// and the exit status, or `None` if the child still runs (or holds its
/// pipes open) at the deadline; it is left running. Fails if a pipe cannot
/// be polled or read, or the child cannot be waited for.
pub fn collect_until(
    child: &mut Child,
    deadline: Instant,
) -> io::Result<(Vec<u8>, Vec<u8>, Option<ExitStatus>)> {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let mut stdout = child.stdout.take();
    let mut stderr = child.stderr.take();
    let mut chunk = vec![0u8; 64 << 10];
    while stdout.is_some() || stderr.is_some() {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok((out, err, None));
        }
        let timeout = Timespec::try_from(left).ok();
        let mut fds = Vec::with_capacity(2);
        if let Some(p) = &stdout {
            fds.push(PollFd::new(p, PollFlags::IN));
        }
        if let Some(p) = &stderr {
            fds.push(PollFd::new(p, PollFlags::IN));
        }
        match poll(&mut fds, timeout.as_ref()) {
            Ok(_) | Err(Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
        let ready: Vec<bool> = fds.iter().map(|f| !f.revents().is_empty()).collect();
        drop(fds);
        let mut ready = ready.into_iter();
        if stdout.is_some() && ready.next() == Some(true) {
            read_some(&mut stdout, &mut out, &mut chunk)?;
        }
        if stderr.is_some() && ready.next() == Some(true) {
            read_some(&mut stderr, &mut err, &mut chunk)?;
        }
    }
    let status = wait_until(child, deadline)?;
    Ok((out, err, status))
}

/// One read of the pipe `pipe` (which `poll` found ready) into `into`;
/// closes it (`None`) at its end.
fn read_some<P: Read>(
    pipe: &mut Option<P>,
    into: &mut Vec<u8>,
    chunk: &mut [u8],
) -> io::Result<()> {
    let Some(p) = pipe else {
        return Ok(());
    };
    match p.read(chunk) {
        Ok(0) => *pipe = None,
        Ok(n) => into.extend_from_slice(&chunk[..n]),
        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
        Err(e) => return Err(e),
    }
    Ok(())
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

    #[test]
    fn both_streams_are_collected_whole_and_a_deadline_is_kept() {
        use super::collect_until;
        use std::process::Stdio;
        let mut child = Command::new("sh")
            .args([
                "-c",
                "head -c 300000 /dev/zero; echo err >&2; head -c 200000 /dev/zero >&2; exit 3",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let far = Instant::now() + Duration::from_secs(30);
        let (out, err, status) = collect_until(&mut child, far).unwrap();
        assert_eq!(out.len(), 300_000);
        assert_eq!(err.len(), 4 + 200_000);
        assert!(err.starts_with(b"err\n"));
        assert_eq!(status.unwrap().code(), Some(3));

        let mut slow = Command::new("sh")
            .args(["-c", "echo started; exec sleep 30"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let soon = Instant::now() + Duration::from_millis(200);
        let (out, _, status) = collect_until(&mut slow, soon).unwrap();
        assert!(status.is_none());
        assert_eq!(out, b"started\n");
        slow.kill().unwrap();
        slow.wait().unwrap();
    }
}
