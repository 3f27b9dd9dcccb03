//! The tool programs (`echo`, `cat`, `ls`, `halt`, `mkfile`), the C program
//! `c-hello` built with gcc against the raw ABI, and a file system that
//! persists across VMs with `--disk` and `--get`.

use std::fs;

use faultline_tests::{
    RunOpts, TempDir, command_args_with, data_file, expect, run, run_args, user_dir,
};

#[test]
fn echo_prints_its_arguments() {
    expect(
        "echo hello world from faultline",
        &RunOpts::new(),
        &["hello world from faultline", "echo: exit(0)"],
        0,
    );
}

#[test]
fn echo_without_arguments_prints_an_empty_line() {
    expect("echo", &RunOpts::new(), &["", "echo: exit(0)"], 0);
}

#[test]
fn cat_prints_a_file() {
    let sample = fs::read_to_string(data_file("sample.txt")).expect("sample.txt is readable");
    // sample.txt has no final newline, so the exit line continues its last line.
    let console = format!("{sample}cat: exit(0)\n");
    let want: Vec<&str> = console.lines().collect();
    expect("cat sample.txt", &RunOpts::new().sample(), &want, 0);
}

#[test]
fn cat_reports_a_missing_file() {
    expect(
        "cat no-such-file",
        &RunOpts::new(),
        &["cat: no-such-file: cannot open", "cat: exit(1)"],
        1,
    );
}

#[test]
fn ls_lists_every_file_with_its_size() {
    let mut want: Vec<String> = Vec::new();
    for entry in fs::read_dir(user_dir()).expect("the user directory is readable") {
        let entry = entry.expect("a directory entry");
        let meta = entry.metadata().expect("file metadata");
        let name = entry.file_name().to_string_lossy().into_owned();
        if meta.is_file() && name.len() <= 14 && !name.starts_with('.') {
            want.push(format!("{name} {}", meta.len()));
        }
    }
    let sample_len = fs::metadata(data_file("sample.txt"))
        .expect("sample.txt exists")
        .len();
    want.push(format!("sample.txt {sample_len}"));
    want.sort();

    let out = run("ls", &RunOpts::new().sample());
    let mut lines = out.lines();
    assert_eq!(
        lines.pop(),
        Some("ls: exit(0)"),
        "ls must end with its exit line:\n{}",
        out.stdout
    );
    assert_eq!(out.status, 0, "ls exit status; stderr:\n{}", out.stderr);
    let mut got: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    got.sort();
    assert_eq!(got, want, "ls must list exactly the guest's files");
}

#[test]
fn halt_powers_off_silently() {
    expect::<&str>("halt", &RunOpts::new(), &[], 0);
}

#[test]
fn c_program_prints_argv_and_exits_42() {
    expect(
        "c-hello one two",
        &RunOpts::new(),
        &[
            "c-hello: argv[0] = c-hello",
            "c-hello: argv[1] = one",
            "c-hello: argv[2] = two",
            "c-hello: exit(42)",
        ],
        42,
    );
}

#[test]
fn files_persist_on_a_disk_image() {
    let dir = TempDir::new("persist");
    let image = dir.path().join("fs.img");
    let fetched = dir.path().join("note.txt");

    // First VM: write the file into a new image.
    expect(
        "mkfile note.txt hello from the first VM",
        &RunOpts::new().disk(&image),
        &["mkfile: exit(0)"],
        0,
    );
    assert!(image.exists(), "--disk must keep the image");

    // Second VM on the same image: the file is there; fetch it to the host.
    let get = format!("note.txt:{}", fetched.display());
    expect(
        "cat note.txt",
        &RunOpts::new().disk(&image).get(&get),
        &["hello from the first VM", "cat: exit(0)"],
        0,
    );
    let bytes = fs::read(&fetched).expect("--get wrote the file");
    assert_eq!(bytes, b"hello from the first VM\n");

    // Third VM: the file still exists, so it cannot be created again.
    expect(
        "mkfile note.txt again",
        &RunOpts::new().disk(&image),
        &["mkfile: note.txt: cannot create", "mkfile: exit(1)"],
        1,
    );
}

/// The disks' registers are read from read-only guest memory: setting up the
/// file-system and swap disks makes no register-read exit, and the disks
/// work (the swap tests use the swap disk set up the same way).
#[test]
fn device_registers_are_read_without_exits() {
    let opts = RunOpts::new().sample().swap("8M");
    let out = run_args(&command_args_with("cat sample.txt", &opts, &["--stats"]));
    let (stdout, stats) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    let sample = fs::read_to_string(data_file("sample.txt")).expect("sample.txt is readable");
    assert_eq!(stdout, format!("{sample}cat: exit(0)\n"), "{stats}");
    assert_eq!(out.status.code(), Some(0), "{stats}");
    assert!(stats.contains("  disk swap: "), "{stats}");
    let readonly =
        kvm_ioctls::Kvm::new().is_ok_and(|kvm| kvm.check_extension(kvm_ioctls::Cap::ReadonlyMem));
    if !readonly {
        assert!(
            stats.contains("device registers: every access exits"),
            "{stats}"
        );
        faultline_tests::skip("this host's KVM cannot map read-only memory");
        return;
    }
    assert!(
        stats.contains("device registers: read-only guest memory"),
        "{stats}"
    );
    assert!(!stats.contains("mmio-read"), "{stats}");
}
