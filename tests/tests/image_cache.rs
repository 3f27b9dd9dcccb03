//! The VMM's image cache (`FAULTLINE_CACHE_DIR`): first runs racing on an
//! empty cache all work and leave one image; a changed user directory gives
//! a new image; a run's guest writes stay in that run; runs killed at any
//! moment (SIGKILL, no cleanup possible) leave only whole images behind.

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use faultline_tests::{RunOpts, TempDir, expect, kernel, still_works, user_dir};

/// `faultline` for `cmdline` with the user directory `users`, the image
/// cache in `cache` and TMPDIR in `tmp`.
fn faultline(users: &Path, cache: &Path, tmp: &Path, cmdline: &str) -> Command {
    let mut cmd = Command::new(faultline_tests::vmm_bin());
    cmd.env("FAULTLINE_CACHE_DIR", cache)
        .env("TMPDIR", tmp)
        .arg("--kernel")
        .arg(kernel())
        .arg("--user-dir")
        .arg(users)
        .args(["--quiet", "--timeout", "60"]);
    cmd.arg("--cpu-mode").arg(faultline_tests::requested_mode());
    cmd.arg("--").arg(cmdline).stdin(Stdio::null());
    cmd
}

/// The entries of `dir`, each checked to be a whole, valid image.
fn whole_images(dir: &Path) -> Vec<String> {
    let mut names = Vec::new();
    for entry in fs::read_dir(dir).expect("the cache directory") {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        assert!(
            name.starts_with("fs-") && name.ends_with(".img"),
            "not a cached image: {name}"
        );
        let image = vmm::fsimage::FsImage::open(&entry.path())
            .unwrap_or_else(|e| panic!("{name} is not a whole image: {e:#}"));
        image.check().unwrap();
        names.push(name);
    }
    names
}

/// Waits until files changed now are older than the window in which an
/// image is not published. A file's change time is read from a clock that
/// may lag, never lead, the real one, so the window itself (and a little
/// for the sleep's own rounding) is enough.
fn age_past_the_racy_window() {
    std::thread::sleep(vmm::image_cache::RACY_WINDOW + Duration::from_millis(5));
}

/// A user directory holding `echo`, `exit` and `halt`.
fn small_user_dir(root: &Path) -> std::path::PathBuf {
    let users = root.join("bin");
    fs::create_dir_all(&users).unwrap();
    for name in ["echo", "exit", "halt"] {
        fs::copy(user_dir().join(name), users.join(name)).unwrap();
    }
    users
}

#[test]
fn first_runs_racing_on_an_empty_cache_share_one_image() {
    let dir = TempDir::new("cache-race");
    let (cache, tmp) = (dir.path().join("cache"), dir.path().join("tmp"));
    fs::create_dir_all(&tmp).unwrap();
    let users = small_user_dir(dir.path());
    age_past_the_racy_window();
    let runs: Vec<_> = (0..6)
        .map(|i| {
            faultline(&users, &cache, &tmp, &format!("echo run {i}"))
                .stdout(Stdio::piped())
                .spawn()
                .expect("faultline starts")
        })
        .collect();
    for (i, run) in runs.into_iter().enumerate() {
        let out = run.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0));
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            format!("run {i}\necho: exit(0)\n")
        );
    }
    assert_eq!(whole_images(&cache).len(), 1);
    assert_eq!(
        fs::read_dir(&tmp).unwrap().count(),
        0,
        "TMPDIR must stay empty"
    );
}

#[test]
fn a_changed_user_directory_gets_a_new_image() {
    let dir = TempDir::new("cache-change");
    let (cache, tmp) = (dir.path().join("cache"), dir.path().join("tmp"));
    fs::create_dir_all(&tmp).unwrap();
    let users = small_user_dir(dir.path());
    fs::copy(users.join("echo"), users.join("prog")).unwrap();
    age_past_the_racy_window();
    let out = faultline(&users, &cache, &tmp, "prog hello")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "hello\nprog: exit(0)\n"
    );
    // `prog` becomes another program, in place (same name, new contents).
    fs::copy(users.join("exit"), users.join("prog")).unwrap();
    let out = faultline(&users, &cache, &tmp, "prog").output().unwrap();
    assert_eq!(out.status.code(), Some(57));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "(prog) begin\nprog: exit(57)\n"
    );
    // And a file that disappears is gone from the next run too.
    fs::remove_file(users.join("prog")).unwrap();
    let out = faultline(&users, &cache, &tmp, "prog").output().unwrap();
    assert_eq!(out.status.code(), Some(255));
    whole_images(&cache);
}

#[test]
fn guest_writes_stay_in_their_run() {
    expect(
        "mkfile mine.txt written by the first run",
        &RunOpts::new(),
        &["mkfile: exit(0)"],
        0,
    );
    expect(
        "cat mine.txt",
        &RunOpts::new(),
        &["cat: mine.txt: cannot open", "cat: exit(1)"],
        1,
    );
}

#[test]
fn runs_killed_at_any_moment_leave_only_whole_images() {
    let dir = TempDir::new("cache-kill");
    let (cache, tmp) = (dir.path().join("cache"), dir.path().join("tmp"));
    fs::create_dir_all(&tmp).unwrap();
    // The suite's whole user directory: a build that takes a while.
    let users = user_dir();
    for i in 0..12u64 {
        // A fresh cache each time, so that every run builds.
        let _ = fs::remove_dir_all(&cache);
        let mut child = faultline(&users, &cache, &tmp, "halt")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("faultline starts");
        std::thread::sleep(Duration::from_micros(500 * i));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        if cache.exists() {
            whole_images(&cache);
        }
        assert_eq!(
            fs::read_dir(&tmp).unwrap().count(),
            0,
            "TMPDIR must stay empty"
        );
    }
    // The cache still works after all that.
    let out = faultline(&users, &cache, &tmp, "halt").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    still_works();
}
