//! `faultline --gdb PORT`: a GDB remote-serial-protocol stub (the `gdbstub`
//! crate) on 127.0.0.1:PORT. The VM waits before the kernel's first
//! instruction until gdb connects; gdb then sees the guest as one thread with
//! the kernel's and the current process's address space, and can read and
//! write registers and memory, set software and (native mode) hardware
//! breakpoints and watchpoints, step, continue and interrupt it. When gdb
//! detaches or goes away, every breakpoint is removed and the guest runs on;
//! `kill` ends the VM. A second client gets an error and is turned away.
//!
//! docs/DEBUGGING.md says which feature works in which CPU mode, and why.

mod arch;
mod breakpoints;
mod conn;
mod event_loop;
mod memory;
mod regs;
mod run;
mod target;
mod wake;

use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use anyhow::{Context, Result};
use gdbstub::stub::{DisconnectReason, GdbStub};
use kvm_ioctls::VcpuFd;

use crate::stop::{StopControl, StopReason};
use crate::vcpu::{Machine, Stop};
use conn::Conn;
use event_loop::{EventLoop, Watcher};
use target::Debuggee;
use wake::{Polled, Wake};

/// How long one wait for a connection lasts before the timeout flag is checked.
const ACCEPT_POLL_MS: i32 = 100;

/// Listens on 127.0.0.1:`port` (loopback only). Fails if the port is taken.
pub fn listen(port: u16) -> Result<TcpListener> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    TcpListener::bind(addr).with_context(|| format!("--gdb: cannot listen on {addr}"))
}

/// Waits for gdb on `listener`, then runs the guest under it; after gdb
/// detaches (or its connection fails) the guest runs on to its end. Returns
/// how the guest ended. Fails only if KVM fails.
pub fn serve(
    listener: &TcpListener,
    machine: &mut Machine<'_>,
    vcpu: &mut VcpuFd,
    stop: &StopControl,
    pvm_mode: bool,
) -> Result<Stop> {
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    crate::diagln!("faultline: gdb: waiting for a connection on 127.0.0.1:{port}");
    let Some(conn) = accept(listener, stop)? else {
        return Ok(match stop.reason() {
            Some(StopReason::Signal(sig)) => Stop::Signal(sig),
            _ => Stop::Timeout,
        });
    };
    let peer = conn
        .peer_addr()
        .map_or_else(|_| "?".to_string(), |a| a.to_string());
    crate::diagln!("faultline: gdb: connected from {peer}");
    let mut refuser = Refuser::start(listener)?;
    let pvm_host = crate::pvm::detect_pvm_on(vcpu).unwrap_or(false);
    let conn = Conn::new(conn);
    let watcher = Watcher::start(conn.raw_fd(), vcpu)?;

    machine.debug = true;
    let mut dbg = Debuggee::new(machine, vcpu, stop, pvm_mode, pvm_host);
    dbg.watcher = Some(watcher);
    let result = GdbStub::new(conn).run_blocking::<EventLoop<'_, '_>>(&mut dbg);
    if let Some(mut w) = dbg.watcher.take() {
        w.stop();
    }
    refuser.stop();
    if let Some(end) = dbg.end.take() {
        return Ok(end);
    }
    match result {
        Ok(DisconnectReason::Kill) => return Ok(Stop::Killed),
        Ok(DisconnectReason::Disconnect) => {
            crate::diagln!("faultline: gdb: detached; the guest runs on");
        }
        Ok(DisconnectReason::TargetExited(_) | DisconnectReason::TargetTerminated(_)) => {}
        Err(e) => {
            let e = format!("{e:#}").replace('\n', " ");
            crate::diagln!("faultline: gdb: the session failed: {e}; the guest runs on");
        }
    }
    dbg.detach();
    drop(dbg);
    machine.debug = false;
    machine.run(vcpu, stop)
}

/// Waits for the first connection, checking for a stop request (the
/// timeout, a signal) between polls. `None` if the run was stopped first.
fn accept(listener: &TcpListener, stop: &StopControl) -> Result<Option<TcpStream>> {
    loop {
        if stop.reason().is_some() {
            return Ok(None);
        }
        if poll_readable(listener.as_raw_fd(), ACCEPT_POLL_MS) {
            let (conn, _) = listener.accept().context("--gdb: accepting a connection")?;
            conn.set_nonblocking(false)
                .context("--gdb: setting up the connection")?;
            return Ok(Some(conn));
        }
    }
}

/// Whether `fd` becomes readable within `ms` milliseconds.
fn poll_readable(fd: std::os::fd::RawFd, ms: i32) -> bool {
    let mut pfd = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd for a descriptor the caller keeps open.
    unsafe { libc::poll(&mut pfd, 1, ms) > 0 }
}

/// The packet a second client gets: an error reply gdb prints.
const BUSY_REPLY: &[u8] = b"another debugger is already attached to this faultline VM";

/// Turns away every further connection while a debugger is attached.
struct Refuser {
    done: Arc<AtomicBool>,
    wake: Arc<Wake>,
    thread: Option<JoinHandle<()>>,
}

impl Refuser {
    fn start(listener: &TcpListener) -> Result<Refuser> {
        let listener = listener
            .try_clone()
            .context("--gdb: cloning the listening socket")?;
        // A client that is gone by the time of the `accept` must not block
        // the thread (and its stop).
        listener
            .set_nonblocking(true)
            .context("--gdb: setting up the listening socket")?;
        let done = Arc::new(AtomicBool::new(false));
        let wake = Arc::new(Wake::new()?);
        let thread = {
            let done = done.clone();
            let wake = wake.clone();
            std::thread::Builder::new()
                .name("gdb-refuser".into())
                .spawn(move || {
                    while !done.load(Ordering::SeqCst) {
                        if wake.poll(listener.as_raw_fd(), -1) != Polled::Ready {
                            continue;
                        }
                        if let Ok((mut conn, peer)) = listener.accept() {
                            crate::diagln!(
                                "faultline: gdb: refused a second connection from {peer}: a debugger is already attached"
                            );
                            let _ = conn.write_all(&packet(b'E', BUSY_REPLY));
                        }
                    }
                })
                .context("starting the gdb refuser thread")?
        };
        Ok(Refuser {
            done,
            wake,
            thread: Some(thread),
        })
    }

    fn stop(&mut self) {
        self.done.store(true, Ordering::SeqCst);
        self.wake.wake();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// `$<kind>.<text>#<checksum>`: an error reply with a message (gdb prints
/// the text).
fn packet(kind: u8, text: &[u8]) -> Vec<u8> {
    let mut body = vec![kind, b'.'];
    body.extend_from_slice(text);
    let sum = body.iter().fold(0u8, |s, &b| s.wrapping_add(b));
    let mut p = vec![b'$'];
    p.extend_from_slice(&body);
    p.extend_from_slice(format!("#{sum:02x}").as_bytes());
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_packets_have_the_checksum() {
        assert_eq!(packet(b'E', b"x"), b"$E.x#eb");
    }

    #[test]
    fn listening_is_loopback_only_and_a_taken_port_is_an_error() {
        let l = listen(0).unwrap();
        let addr = l.local_addr().unwrap();
        assert!(addr.ip().is_loopback());
        assert!(listen(addr.port()).is_err());
    }
}
