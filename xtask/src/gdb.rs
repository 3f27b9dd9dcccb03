//! `cargo xtask gdb [OPTIONS] -- PROGRAM [ARGS...]`: builds, starts
//! `faultline --gdb PORT` (a free port) and a gdb already connected, with the
//! kernel's and PROGRAM's symbols loaded (like Pintos's `pintos-gdb`). The
//! VM's console shares the terminal; when gdb quits the VM is killed (unless
//! gdb detached, in which case it runs to its end).

use std::ffi::OsString;
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Command, ExitCode, Stdio};

use anyhow::{Context, Result, bail};

use crate::build;
use crate::paths::Paths;

/// The arguments after `gdb` exactly as given.
pub fn raw_gdb_args() -> Vec<OsString> {
    let mut args = std::env::args_os().skip(1);
    match args.next() {
        Some(first) if first == "gdb" => args.collect(),
        _ => Vec::new(),
    }
}

/// The program named after `--` in `args`.
fn program(args: &[OsString]) -> Option<OsString> {
    let at = args.iter().position(|a| a == "--")?;
    args.get(at + 1)?
        .to_str()?
        .split(' ')
        .find(|w| !w.is_empty())
        .map(OsString::from)
}

/// Builds, starts the VM under `--gdb` and gdb attached to it; returns gdb's status.
pub fn run(paths: &Paths, args: &[OsString]) -> Result<ExitCode> {
    let Some(program) = program(args) else {
        bail!("usage: cargo xtask gdb [OPTIONS] -- PROGRAM [ARGS...]");
    };
    build::all(paths)?;
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .context("finding a free port")?
        .port();
    let mut vm = Command::new(paths.vmm_bin())
        .arg("--kernel")
        .arg(paths.kernel_elf())
        .arg("--user-dir")
        .arg(paths.guest_bin())
        .arg("--gdb")
        .arg(port.to_string())
        .args(args)
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot run {}", paths.vmm_bin().display()))?;
    // Pass the VM's messages on, and start gdb once it listens.
    let stderr = vm.stderr.take().context("no pipe from faultline")?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            eprintln!("{line}");
            if line.contains("waiting for a connection") {
                let _ = tx.send(());
            }
        }
    });
    if rx.recv().is_err() {
        let status = vm.wait().context("waiting for faultline")?;
        bail!("faultline ended before it listened ({status})");
    }
    let user = paths.guest_bin().join(&program);
    let status = Command::new("gdb")
        .arg("-q")
        .arg("-ex")
        .arg(format!("file {}", paths.kernel_elf().display()))
        .arg("-ex")
        .arg(format!("add-symbol-file {}", user.display()))
        .arg("-ex")
        .arg(format!("target remote 127.0.0.1:{port}"))
        .status();
    let status = match status {
        Ok(s) => s,
        Err(e) => {
            let _ = vm.kill();
            return Err(e).context("cannot run gdb (install it, e.g. `apt-get install gdb`)");
        }
    };
    // gdb is gone: its `kill` ended the VM, or the stub took the closed
    // connection as a detach and the guest runs on to its end.
    let _ = vm.wait();
    Ok(if status.success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_program_is_the_first_word_after_the_separator() {
        let args: Vec<OsString> = ["--mem", "32M", "--", "page-linear", "x"]
            .iter()
            .map(OsString::from)
            .collect();
        assert_eq!(program(&args), Some(OsString::from("page-linear")));
        assert_eq!(program(&[OsString::from("--")]), None);
    }
}
