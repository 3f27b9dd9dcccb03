//! `faultline --gdb PORT` driven by the real gdb in batch mode: a breakpoint on
//! the kernel's fault handler, a backtrace through the trap path, registers,
//! a single step, a second breakpoint, a user variable read by address, and
//! the program's exit; a detach mid-run; a bad packet and a second client.
//!
//! Tests that need gdb report themselves as skipped when it is
//! missing (`.ci/run` installs it). Each VM listens on its own free port.
//!
//! Kernel functions the tests break on (looked up in the kernel's symbols,
//! the first name that exists wins): the fault handler
//! `kernel::vm::api::handle_fault` (earlier `kernel::vm::handle_fault`), and
//! the system-call dispatcher
//! `kernel::userprog::syscall::dispatch`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use faultline_tests::{
    RunOpts, command_args_with, kernel, native_is_emulated, skip, user_dir, vmm_bin,
};

/// Fault-handler names, newest first.
const FAULT_HANDLERS: &[&str] = &[
    "kernel::vm::api::handle_fault",
    "kernel::vm::handle_fault",
    "kernel::vm::fault::handle",
];
/// System-call dispatcher names, newest first.
const SYSCALL_DISPATCHERS: &[&str] = &[
    "kernel::userprog::syscall::dispatch",
    "kernel::syscall::dispatch",
];

/// The kernel's symbols (read once per test).
struct KernelSymbols(vmm::symbols::Symbols);

impl KernelSymbols {
    fn read() -> KernelSymbols {
        let elf = std::fs::read(kernel()).expect("the kernel is readable");
        KernelSymbols(vmm::symbols::Symbols::from_elf(&elf))
    }

    /// The first of `names` the kernel defines.
    fn function(&self, names: &[&str]) -> String {
        names
            .iter()
            .find(|n| self.0.address_of(n).is_some())
            .unwrap_or_else(|| panic!("the kernel defines none of {names:?}"))
            .to_string()
    }
}

/// The address of the user program's `ulib::entry::ARGC` (set at entry).
fn argc_address(program: &str) -> u64 {
    use object::{Object, ObjectSymbol};
    let data = std::fs::read(user_dir().join(program)).expect("the program is readable");
    let file = object::File::parse(&*data).expect("the program is an ELF file");
    file.symbols()
        .find(|s| s.name().is_ok_and(|n| n.contains("4ulib5entry4ARGC")))
        .map(|s| s.address())
        .expect("the program has ulib's ARGC")
}

/// Whether gdb can be run: an executable `gdb` on the PATH (looked up, not
/// started: a gdb start costs a tenth of a second, and the test starts one
/// anyway, which fails loudly if that gdb is broken). Reports the test as
/// skipped when there is none.
fn gdb_available() -> bool {
    use std::os::unix::fs::PermissionsExt;
    let ok = std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|dir| {
            std::fs::metadata(dir.join("gdb"))
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
    });
    if !ok {
        skip("gdb is not installed (`.ci/run` installs it)");
    }
    ok
}

/// A VM waiting for gdb.
struct Vm {
    child: Child,
    port: u16,
    stderr: mpsc::Receiver<String>,
    stdout: thread::JoinHandle<String>,
}

impl Vm {
    /// Starts `cmdline` with `--gdb` on a free port; returns once it listens.
    fn start(cmdline: &str, opts: &RunOpts) -> Vm {
        for _ in 0..5 {
            // A port that was free a moment ago (another test may take it:
            // then try again).
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a free port")
                .port();
            let bin = vmm_bin();
            let args = command_args_with(cmdline, opts, &["--gdb", &port.to_string()]);
            let mut child = Command::new(bin)
                .args(&args)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("faultline starts");
            let (tx, rx) = mpsc::channel();
            let err = child.stderr.take().expect("stderr");
            thread::spawn(move || {
                for line in BufReader::new(err).lines().map_while(Result::ok) {
                    let _ = tx.send(line);
                }
            });
            let mut out = child.stdout.take().expect("stdout");
            let stdout = thread::spawn(move || {
                let mut s = String::new();
                let _ = out.read_to_string(&mut s);
                s
            });
            let mut vm = Vm {
                child,
                port,
                stderr: rx,
                stdout,
            };
            let mut seen = String::new();
            while let Ok(line) = vm.stderr.recv_timeout(Duration::from_secs(30)) {
                seen += &line;
                seen.push('\n');
                if line.contains("waiting for a connection") {
                    return vm;
                }
            }
            let _ = vm.child.kill();
            let _ = vm.child.wait();
            assert!(
                seen.contains("cannot listen"),
                "faultline did not listen:\n{seen}"
            );
        }
        panic!("no free port for --gdb after 5 tries");
    }

    /// Waits for the VM to end: (exit status, stdout, stderr).
    fn finish(mut self) -> (i32, String, String) {
        let status = self.child.wait().expect("faultline ends");
        let stdout = self.stdout.join().unwrap_or_default();
        let stderr: Vec<String> = self.stderr.iter().collect();
        (status.code().unwrap_or(-1), stdout, stderr.join("\n"))
    }
}

/// Runs gdb in batch mode against `vm` with the kernel's symbols (and
/// `program`'s, if given) and `commands`; returns everything it printed.
fn gdb(vm: &Vm, program: Option<&str>, commands: &[String]) -> String {
    let mut cmd = Command::new("gdb");
    cmd.args(["-nx", "-batch", "-ex", "set pagination off", "-ex"])
        .arg(format!("file {}", kernel().display()));
    if let Some(program) = program {
        cmd.arg("-ex").arg(format!(
            "add-symbol-file {}",
            user_dir().join(program).display()
        ));
    }
    cmd.arg("-ex")
        .arg(format!("target remote 127.0.0.1:{}", vm.port));
    for c in commands {
        cmd.arg("-ex").arg(c);
    }
    let out = cmd.stdin(Stdio::null()).output().expect("gdb runs");
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

/// The program the stepping test debugs: page-linear under memory
/// pressure, except where the native mode is emulated (page-linear takes
/// minutes there): lazy-anon.
fn fault_program() -> (&'static str, RunOpts, &'static str) {
    if native_is_emulated() {
        ("lazy-anon", RunOpts::new(), "lazy-anon: exit(0)")
    } else {
        (
            "page-linear",
            RunOpts::new().user_mem("2M").swap("16M"),
            "page-linear: exit(0)",
        )
    }
}

#[test]
fn gdb_stops_in_the_fault_handler_steps_and_runs_to_the_exit() {
    if !gdb_available() {
        return;
    }
    let (program, opts, exit_line) = fault_program();
    let symbols = KernelSymbols::read();
    let fault = symbols.function(FAULT_HANDLERS);
    let dispatch = symbols.function(SYSCALL_DISPATCHERS);
    let argc = argc_address(program);
    let vm = Vm::start(program, &opts);
    let out = gdb(
        &vm,
        Some(program),
        &[
            format!("break {fault}"),
            "continue".into(),
            "backtrace".into(),
            "info registers rip rsp eflags cs ss cr3".into(),
            "print/x $pc".into(),
            "stepi".into(),
            "print/x $pc".into(),
            "delete".into(),
            format!("break {dispatch}"),
            "continue".into(),
            "backtrace".into(),
            format!("x/1gx {argc:#x}"),
            "delete".into(),
            "continue".into(),
        ],
    );
    let (status, stdout, stderr) = vm.finish();
    let report = format!("gdb:\n{out}\nconsole:\n{stdout}\nstderr:\n{stderr}");
    // The breakpoint in the fault handler, and the trap path below it.
    assert!(out.contains(&format!("Breakpoint 1, {fault}")), "{report}");
    for frame in [
        "kernel::userprog::handle_trap",
        "kernel::arch::trap::trap_dispatch",
    ] {
        assert!(out.contains(frame), "no {frame} in the backtrace\n{report}");
    }
    assert!(out.contains("kernel/src/vm/"), "no source line\n{report}");
    // Registers: kernel code segment, a page table, rip inside the handler.
    let reg = |name: &str| {
        out.lines()
            .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| u64::from_str_radix(v.trim_start_matches("0x"), 16).ok())
            .unwrap_or_else(|| panic!("no register {name}\n{report}"))
    };
    assert_eq!(reg("cs") & 3, 0, "{report}");
    assert_ne!(reg("cr3"), 0, "{report}");
    assert!(reg("rip") >= 0xffff_ffff_8000_0000, "{report}");
    // The single step moved the pc.
    let pcs: Vec<&str> = out
        .lines()
        .filter_map(|l| l.strip_prefix("$"))
        .filter_map(|l| l.split(" = ").nth(1))
        .collect();
    assert_eq!(pcs.len(), 2, "{report}");
    assert_ne!(pcs[0], pcs[1], "stepi did not move\n{report}");
    // The second breakpoint, and the user's ARGC (1: just the program name).
    // gdb names the innermost frame at the breakpoint, which may be a
    // function the compiler inlined into the dispatcher at its first line:
    // the dispatcher must then be in the backtrace that follows.
    let second = out
        .split_once("Breakpoint 2, ")
        .map(|(_, rest)| rest)
        .unwrap_or_else(|| panic!("the second breakpoint was not hit\n{report}"));
    assert!(second.contains(dispatch.as_str()), "{report}");
    assert!(
        out.lines().any(|l| l.starts_with(&format!("{argc:#x}"))
            && l.trim_end().ends_with("0x0000000000000001")),
        "ARGC not read\n{report}"
    );
    // The program ran to its normal end.
    assert!(out.contains("exited normally"), "{report}");
    assert_eq!(status, 0, "{report}");
    assert!(stdout.lines().any(|l| l == exit_line), "{report}");
}

#[test]
fn gdb_detaching_mid_run_lets_the_guest_finish() {
    if !gdb_available() {
        return;
    }
    // Any program that faults will do: lazy-anon's first fault is the
    // middle of its run (page-linear's pressure, which the test above
    // steps through, would only add 0.1 s of swapping after the detach).
    let (program, opts, exit_line) = ("lazy-anon", RunOpts::new(), "lazy-anon: exit(0)");
    let fault = KernelSymbols::read().function(FAULT_HANDLERS);
    let vm = Vm::start(program, &opts);
    // The kernel's symbols are all this needs.
    let out = gdb(
        &vm,
        None,
        &[format!("break {fault}"), "continue".into(), "detach".into()],
    );
    let (status, stdout, stderr) = vm.finish();
    let report = format!("gdb:\n{out}\nconsole:\n{stdout}\nstderr:\n{stderr}");
    assert!(out.contains("Breakpoint 1,"), "{report}");
    assert!(stderr.contains("detached; the guest runs on"), "{report}");
    assert_eq!(status, 0, "{report}");
    assert!(stdout.lines().any(|l| l == exit_line), "{report}");
}

#[test]
fn a_bad_packet_ends_the_session_and_the_guest_runs_on() {
    let vm = Vm::start("echo still here", &RunOpts::new());
    let mut conn = TcpStream::connect(("127.0.0.1", vm.port)).expect("connects");
    conn.write_all(b"$qSupported#00").expect("sends");
    let mut rest = Vec::new();
    let _ = conn.read_to_end(&mut rest);
    let (status, stdout, stderr) = vm.finish();
    assert!(
        stderr.contains("faultline: gdb: the session failed") && stderr.contains("Checksum"),
        "{stderr}"
    );
    assert_eq!(status, 0, "{stderr}");
    assert_eq!(stdout, "still here\necho: exit(0)\n");
}

#[test]
fn a_second_client_is_turned_away() {
    let vm = Vm::start("echo one client", &RunOpts::new());
    let first = TcpStream::connect(("127.0.0.1", vm.port)).expect("connects");
    // Wait until the VMM took the first connection.
    while let Ok(line) = vm.stderr.recv_timeout(Duration::from_secs(30)) {
        if line.contains("connected from") {
            break;
        }
    }
    let mut second = TcpStream::connect(("127.0.0.1", vm.port)).expect("connects");
    second
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("a timeout");
    let mut reply = Vec::new();
    let _ = second.read_to_end(&mut reply);
    let reply = String::from_utf8_lossy(&reply).into_owned();
    assert!(
        reply.starts_with("$E.another debugger is already attached"),
        "{reply}"
    );
    drop(second);
    drop(first);
    let (status, stdout, stderr) = vm.finish();
    assert!(stderr.contains("refused a second connection"), "{stderr}");
    assert_eq!(status, 0, "{stderr}");
    assert_eq!(stdout, "one client\necho: exit(0)\n");
}
