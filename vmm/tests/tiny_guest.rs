//! End-to-end tests of the `faultline` binary with tiny hand-assembled guest
//! "kernels": each is an ELF loaded like the real kernel (physical 0x200000,
//! entry in the higher half) whose code exercises one device or failure path.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const VIRT: u64 = 0xffff_ffff_8020_0000;
const PHYS: u64 = 0x20_0000;

/// Entry offsets into [`code`].
const HELLO: u64 = 0x00;
const SPIN: u64 = 0x14;
const SERIAL: u64 = 0x16;
const MMIO: u64 = 0x2a;
const INPUT: u64 = 0x8f;
const PANIC: u64 = 0x5e;
const CRASH: u64 = 0x72;
const SWAP_ID: u64 = 0x74;

/// The guest code (assembled with GNU as; the listing is in the comments).
fn code() -> Vec<u8> {
    let mut c = Vec::new();
    // hello: console write of the descriptor at 0x200100, then exit(7); spin.
    c.extend([0xb8, 0x00, 0x01, 0x20, 0x00]); // mov eax, 0x200100
    c.extend([0x66, 0xba, 0x02, 0x05, 0xef]); // mov dx, 0x502; out dx, eax
    c.extend([0xb8, 0x07, 0x00, 0x00, 0x01]); // mov eax, 0x01000007
    c.extend([0x66, 0xba, 0x01, 0x05, 0xef]); // mov dx, 0x501; out dx, eax
    c.extend([0xeb, 0xfe]); // spin: jmp spin
    // serial: "S\n" on the UART, exit(0).
    c.extend([0x66, 0xba, 0xf8, 0x03]); // mov dx, 0x3f8
    c.extend([0xb0, 0x53, 0xee, 0xb0, 0x0a, 0xee]); // mov al,'S'; out; mov al,'\n'; out
    c.extend([0xb8, 0x00, 0x00, 0x00, 0x01]); // mov eax, 0x01000000
    c.extend([0x66, 0xba, 0x01, 0x05, 0xef]); // out to 0x501
    // mmio: exit(low byte of the virtio magic read through the direct map).
    c.extend([0x48, 0xb8, 0x00, 0x00, 0x00, 0xd0, 0x80, 0x88, 0xff, 0xff]); // movabs rax, 0xffff8880d0000000
    c.extend([0x8b, 0x00, 0x0f, 0xb6, 0xc8]); // mov eax, [rax]; movzx ecx, al
    c.extend([0xb8, 0x00, 0x00, 0x00, 0x01, 0x09, 0xc8]); // mov eax, 0x01000000; or eax, ecx
    c.extend([0x66, 0xba, 0x01, 0x05, 0xef]); // out to 0x501
    // (unused: the byte-wise console input of ABI version 0)
    c.extend([0x90; 0x19]);
    // panic: panic report at 0x200100, then exit with KIND_PANIC.
    c.extend([0xb8, 0x00, 0x01, 0x20, 0x00]); // mov eax, 0x200100
    c.extend([0x66, 0xba, 0x04, 0x05, 0xef]); // mov dx, 0x504; out dx, eax
    c.extend([0xb8, 0x00, 0x00, 0x00, 0x02]); // mov eax, 0x02000000
    c.extend([0x66, 0xba, 0x01, 0x05, 0xef]); // out to 0x501
    // crash: ud2 with no IDT is a triple fault.
    c.extend([0x0f, 0x0b]);
    // swap_id: exit(low byte of the DeviceID register of virtio device 1).
    c.extend([0x48, 0xb8, 0x08, 0x10, 0x00, 0xd0, 0x80, 0x88, 0xff, 0xff]); // movabs rax, 0xffff8880d0001008
    c.extend([0x8b, 0x00, 0x0f, 0xb6, 0xc8]); // mov eax, [rax]; movzx ecx, al
    c.extend([0xb8, 0x00, 0x00, 0x00, 0x01, 0x09, 0xc8]); // mov eax, 0x01000000; or eax, ecx
    c.extend([0x66, 0xba, 0x01, 0x05, 0xef]); // out to 0x501
    // input: console read request (descriptor at 0x200100: one byte at
    // 0x200300, result at 0x200110) until it is not empty, then exit(the
    // byte), or exit(255) at end of input.
    c.extend([0xb8, 0x00, 0x01, 0x20, 0x00]); // mov eax, 0x200100
    c.extend([0x66, 0xba, 0x03, 0x05, 0xef]); // mov dx, 0x503; out dx, eax
    c.extend([0x48, 0x8b, 0x0d, 0x70, 0x00, 0x00, 0x00]); // mov rcx, [rip + 0x70] (result)
    c.extend([0x48, 0x85, 0xc9, 0x74, 0xea]); // test rcx, rcx; je input
    c.extend([0x48, 0x83, 0xf9, 0xff, 0x74, 0x09]); // cmp rcx, -1; je eof
    c.extend([0x0f, 0xb6, 0x0d, 0x4e, 0x02, 0x00, 0x00]); // movzx ecx, byte [rip + 0x24e]
    c.extend([0xeb, 0x05]); // jmp done
    c.extend([0xb9, 0xff, 0x00, 0x00, 0x00]); // eof: mov ecx, 0xff
    c.extend([0xb8, 0x00, 0x00, 0x00, 0x01, 0x09, 0xc8]); // done: mov eax, 0x01000000; or eax, ecx
    c.extend([0x66, 0xba, 0x01, 0x05, 0xef]); // out to 0x501
    assert_eq!(c.len(), 0xc5);
    c
}

/// File offset of the kernel note.
const NOTE_OFF: u64 = 0x180;

/// The note every faultline kernel carries (`abi::marker`).
fn faultline_note() -> Vec<u8> {
    let n = abi::marker::KERNEL_NOTE;
    let mut b = Vec::new();
    put_u32(&mut b, n.namesz);
    put_u32(&mut b, n.descsz);
    put_u32(&mut b, n.note_type);
    b.extend(n.name);
    b.extend(n.descriptor());
    b
}

fn put_u16(b: &mut Vec<u8>, v: u16) {
    b.extend(v.to_le_bytes());
}
fn put_u32(b: &mut Vec<u8>, v: u32) {
    b.extend(v.to_le_bytes());
}
fn put_u64(b: &mut Vec<u8>, v: u64) {
    b.extend(v.to_le_bytes());
}

/// An ELF executable with one RWX segment (code at +0, a data block at +0x100,
/// a message at +0x200), the faultline kernel note (in a PT_NOTE) and a
/// symbol table naming `guest_panic`.
fn kernel_elf(entry: u64, data: &[u8]) -> Vec<u8> {
    let mut seg = vec![0u8; 0x1000];
    let code = code();
    seg[..code.len()].copy_from_slice(&code);
    seg[0x100..0x100 + data.len()].copy_from_slice(data);
    seg[0x200..0x206].copy_from_slice(b"hello\n");

    let strtab = b"\0guest_panic\0".to_vec();
    let shstrtab = b"\0.text\0.symtab\0.strtab\0.shstrtab\0".to_vec();
    let (seg_off, sym_off, str_off, shstr_off, sh_off) =
        (0x1000u64, 0x2000u64, 0x2040u64, 0x2060u64, 0x2100u64);

    let mut f = Vec::new();
    f.extend([0x7f, b'E', b'L', b'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    put_u16(&mut f, 2); // ET_EXEC
    put_u16(&mut f, 0x3e); // x86-64
    put_u32(&mut f, 1);
    put_u64(&mut f, VIRT + entry);
    put_u64(&mut f, 64); // e_phoff
    put_u64(&mut f, sh_off);
    put_u32(&mut f, 0);
    put_u16(&mut f, 64);
    put_u16(&mut f, 56);
    put_u16(&mut f, 2);
    put_u16(&mut f, 64);
    put_u16(&mut f, 5);
    put_u16(&mut f, 4); // .shstrtab
    // PT_LOAD
    put_u32(&mut f, 1);
    put_u32(&mut f, 7);
    put_u64(&mut f, seg_off);
    put_u64(&mut f, VIRT);
    put_u64(&mut f, PHYS);
    put_u64(&mut f, 0x1000);
    put_u64(&mut f, 0x1000);
    put_u64(&mut f, 0x1000);
    // PT_NOTE: the faultline kernel note at NOTE_OFF.
    let note = faultline_note();
    put_u32(&mut f, 4);
    put_u32(&mut f, 4);
    put_u64(&mut f, NOTE_OFF);
    put_u64(&mut f, 0);
    put_u64(&mut f, 0);
    put_u64(&mut f, note.len() as u64);
    put_u64(&mut f, note.len() as u64);
    put_u64(&mut f, 4);
    f.resize(NOTE_OFF as usize, 0);
    f.extend(&note);
    f.resize(seg_off as usize, 0);
    f.extend(&seg);
    // Symbols: null, guest_panic (FUNC, .text).
    f.resize(sym_off as usize, 0);
    f.extend([0u8; 24]);
    put_u32(&mut f, 1);
    f.extend([0x12, 0]);
    put_u16(&mut f, 1);
    put_u64(&mut f, VIRT + PANIC);
    put_u64(&mut f, 0x14);
    f.resize(str_off as usize, 0);
    f.extend(&strtab);
    f.resize(shstr_off as usize, 0);
    f.extend(&shstrtab);
    f.resize(sh_off as usize, 0);
    let mut sh = |name: u32,
                  ty: u32,
                  flags: u64,
                  addr: u64,
                  off: u64,
                  size: u64,
                  link: u32,
                  info: u32,
                  ent: u64| {
        put_u32(&mut f, name);
        put_u32(&mut f, ty);
        put_u64(&mut f, flags);
        put_u64(&mut f, addr);
        put_u64(&mut f, off);
        put_u64(&mut f, size);
        put_u32(&mut f, link);
        put_u32(&mut f, info);
        put_u64(&mut f, 8);
        put_u64(&mut f, ent);
    };
    sh(0, 0, 0, 0, 0, 0, 0, 0, 0);
    sh(1, 1, 6, VIRT, seg_off, 0x1000, 0, 0, 0); // .text
    sh(7, 2, 0, 0, sym_off, 48, 3, 1, 24); // .symtab
    sh(15, 3, 0, 0, str_off, strtab.len() as u64, 0, 0, 0); // .strtab
    sh(23, 3, 0, 0, shstr_off, shstrtab.len() as u64, 0, 0, 0); // .shstrtab
    f
}

/// The console-read descriptor used by `input`: one byte at 0x200300.
fn input_descriptor() -> Vec<u8> {
    let mut d = Vec::new();
    put_u64(&mut d, PHYS + 0x300);
    put_u64(&mut d, 1);
    put_u64(&mut d, 0);
    d
}

/// The console descriptor used by `hello`: "hello\n" at 0x200200.
fn console_descriptor() -> Vec<u8> {
    let mut d = Vec::new();
    put_u64(&mut d, PHYS + 0x200);
    put_u64(&mut d, 6);
    d
}

struct Guest {
    dir: tempfile::TempDir,
    kernel: PathBuf,
}

fn guest(entry: u64, data: &[u8]) -> Guest {
    let dir = tempfile::tempdir().unwrap();
    let kernel = dir.path().join("kernel");
    std::fs::write(&kernel, kernel_elf(entry, data)).unwrap();
    Guest { dir, kernel }
}

fn kvm_available() -> bool {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/kvm")
        .is_ok()
}

fn faultline(kernel: Option<&Path>, args: &[&str], stdin: &[u8]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_faultline"));
    cmd.env_remove("FAULTLINE_KERNEL")
        .env_remove("FAULTLINE_USER_DIR");
    if let Some(k) = kernel {
        cmd.arg("--kernel").arg(k);
    }
    // The hand-assembled guests use ordinary x86 supervisor semantics.
    if !args.contains(&"--cpu-mode") {
        cmd.args(["--cpu-mode", "native"]);
    }
    cmd.args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

macro_rules! require_kvm {
    () => {
        if !kvm_available() {
            eprintln!("no usable /dev/kvm: skipped");
            return;
        }
    };
}

#[test]
fn console_output_and_exit_status() {
    require_kvm!();
    let g = guest(HELLO, &console_descriptor());
    let out = faultline(Some(&g.kernel), &["--", "hello", "world"], b"");
    assert_eq!(text(&out.stdout), "hello\n");
    assert_eq!(out.status.code(), Some(7), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stderr),
        "faultline: booting hello (mode native, mem 64 MiB)\n"
    );
    let out = faultline(
        Some(&g.kernel),
        &["--quiet", "--mem", "8M", "--", "hello"],
        b"",
    );
    assert_eq!(out.status.code(), Some(7));
    assert_eq!(text(&out.stderr), "");
}

#[test]
fn stats_report_exits() {
    require_kvm!();
    let g = guest(HELLO, &console_descriptor());
    let out = faultline(Some(&g.kernel), &["-q", "--stats", "--", "hello"], b"");
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(7), "{err}");
    assert!(err.contains("faultline: stats: 2 VM exits"), "{err}");
    assert!(err.contains("io-out console"), "{err}");
    assert!(err.contains("guest (in KVM_RUN)"), "{err}");
    assert!(err.contains("disk fs: 0 notifies"), "{err}");
}

#[test]
fn serial_output() {
    require_kvm!();
    let g = guest(SERIAL, &[]);
    let out = faultline(Some(&g.kernel), &["-q", "--", "x"], b"");
    assert_eq!(text(&out.stdout), "S\n");
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn virtio_registers_through_the_direct_map() {
    require_kvm!();
    let g = guest(MMIO, &[]);
    let out = faultline(Some(&g.kernel), &["-q", "--", "x"], b"");
    assert_eq!(out.status.code(), Some(0x76), "{}", text(&out.stderr)); // 'v' of "virt"
}

#[test]
fn swap_disk_is_device_one() {
    require_kvm!();
    let g = guest(SWAP_ID, &[]);
    let out = faultline(Some(&g.kernel), &["-q", "--", "x"], b"");
    assert_eq!(out.status.code(), Some(0xff), "{}", text(&out.stderr)); // nothing there
    let out = faultline(Some(&g.kernel), &["-q", "--swap", "1M", "--", "x"], b"");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr)); // a block device
    let swap = g.dir.path().join("swap.img");
    let args = ["-q", "--swap-file", swap.to_str().unwrap(), "--", "x"];
    let out = faultline(Some(&g.kernel), &args, b"");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert_eq!(std::fs::metadata(&swap).unwrap().len(), 16 << 20);
}

#[test]
fn console_input_and_end_of_input() {
    require_kvm!();
    let g = guest(INPUT, &input_descriptor());
    let out = faultline(Some(&g.kernel), &["-q", "--", "x"], b"A");
    assert_eq!(out.status.code(), Some(65), "{}", text(&out.stderr));
    let out = faultline(Some(&g.kernel), &["-q", "--", "x"], b"");
    assert_eq!(out.status.code(), Some(255), "{}", text(&out.stderr));
}

#[test]
fn panic_report_is_symbolized() {
    require_kvm!();
    let mut report = Vec::new();
    put_u64(&mut report, VIRT + PANIC + 2);
    put_u64(&mut report, 2);
    put_u64(&mut report, VIRT + PANIC + 5);
    put_u64(&mut report, 0x1234);
    let g = guest(PANIC, &report);
    let out = faultline(Some(&g.kernel), &["-q", "--", "x"], b"");
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(250), "{err}");
    assert!(err.starts_with("faultline: kernel backtrace:\n"), "{err}");
    assert!(
        err.contains("  #0 0xffffffff80200060 guest_panic+0x2\n"),
        "{err}"
    );
    assert!(
        err.contains("  #1 0xffffffff80200063 guest_panic+0x5\n"),
        "{err}"
    );
    assert!(err.contains("  #2 0x1234\n"), "{err}");
}

#[test]
fn triple_fault_prints_registers() {
    require_kvm!();
    let g = guest(CRASH, &[]);
    let out = faultline(Some(&g.kernel), &["-q", "--", "x"], b"");
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(250), "{err}");
    assert!(err.contains("triple fault"), "{err}");
    assert!(err.contains("cr3 0x10000"), "{err}");
}

#[test]
fn timeout() {
    require_kvm!();
    let g = guest(SPIN, &[]);
    let t = std::time::Instant::now();
    let out = faultline(Some(&g.kernel), &["-q", "--timeout", "1", "--", "x"], b"");
    assert_eq!(out.status.code(), Some(251));
    assert_eq!(text(&out.stderr), "faultline: timeout after 1 s\n");
    assert!(t.elapsed() < std::time::Duration::from_secs(10));
}

#[test]
fn files_go_in_and_come_out() {
    require_kvm!();
    let g = guest(HELLO, &console_descriptor());
    let host = g.dir.path().join("input.txt");
    std::fs::write(&host, b"some data").unwrap();
    let users = g.dir.path().join("users");
    std::fs::create_dir(&users).unwrap();
    std::fs::write(users.join("echo"), b"ELF").unwrap();
    std::fs::create_dir(users.join("subdir")).unwrap();
    let disk = g.dir.path().join("fs.img");
    let got = g.dir.path().join("back.txt");
    let args = [
        "-q".to_string(),
        "--user-dir".into(),
        users.display().to_string(),
        "--put".into(),
        format!("{}:data", host.display()),
        "--get".into(),
        format!("data:{}", got.display()),
        "--disk".into(),
        disk.display().to_string(),
        "--".into(),
        "hello".into(),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = faultline(Some(&g.kernel), &args, b"");
    assert_eq!(out.status.code(), Some(7), "{}", text(&out.stderr));
    assert_eq!(std::fs::read(&got).unwrap(), b"some data");
    let image = vmm::fsimage::FsImage::open(&disk).unwrap();
    assert_eq!(
        image.list().unwrap(),
        vec![("echo".to_string(), 3), ("data".to_string(), 9)]
    );
    // A missing guest file is a VMM error.
    let out = faultline(
        Some(&g.kernel),
        &["-q", "--get", "nope", "--", "hello"],
        b"",
    );
    assert_eq!(out.status.code(), Some(252));
    assert!(text(&out.stderr).contains("faultline: error: --get nope"));
}

#[test]
fn errors_are_one_line_and_status_252() {
    let g = guest(HELLO, &console_descriptor());
    let cases: Vec<(Option<&Path>, Vec<&str>, &str)> = vec![
        (None, vec!["--", "x"], "no kernel given"),
        (
            Some(Path::new("/nonexistent/kernel")),
            vec!["--", "x"],
            "--kernel /nonexistent/kernel: cannot read it",
        ),
        (Some(&g.kernel), vec!["--mem", "4G", "--", "x"], "--mem"),
        (Some(&g.kernel), vec!["--mem", "lots", "--", "x"], "--mem"),
        (
            Some(&g.kernel),
            vec!["--put", "/nonexistent/file", "--", "x"],
            "--put",
        ),
    ];
    let mut cases = cases;
    // Asking for the PVM guest mode is an error only where the host is not PVM.
    let pvm_host = kvm_ioctls::Kvm::new()
        .ok()
        .and_then(|kvm| vmm::pvm::detect_pvm(&kvm).ok());
    if pvm_host == Some(false) {
        cases.push((Some(&g.kernel), vec!["--cpu-mode", "pvm", "--", "x"], "pvm"));
    }
    let long = "x".repeat(600);
    cases.push((Some(&g.kernel), vec!["--", &long], "command line"));
    for (kernel, args, what) in cases {
        let out = faultline(kernel, &args, b"");
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(252), "{args:?}: {err}");
        assert!(err.starts_with("faultline: error: "), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains(what), "{args:?}: {err}");
    }
    // clap's own usage errors also exit 252.
    let out = faultline(Some(&g.kernel), &["--bogus", "--", "x"], b"");
    assert_eq!(out.status.code(), Some(252));
    let out = faultline(Some(&g.kernel), &[], b"");
    assert_eq!(out.status.code(), Some(252));
    let out = faultline(None, &["--help"], b"");
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("--swap-file"));
    let out = faultline(None, &["--version"], b"");
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn not_an_elf_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let k = dir.path().join("k");
    std::fs::write(&k, b"garbage").unwrap();
    let out = faultline(Some(&k), &["--", "x"], b"");
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(252), "{err}");
    assert!(
        err.contains(&format!("--kernel {}: not an ELF file", k.display())),
        "{err}"
    );
}
