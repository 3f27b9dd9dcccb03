//! Bad file-system images never reach the kernel unchecked and never panic
//! it: the VMM refuses each kind (garbage directory, a 65,536-entry
//! superblock under `--mem 8M`, overlapping extents, an extent past the disk,
//! a bad name, a truncated image) with status 252 and
//! `faultline: error: --disk IMAGE: ...`; and with the VMM's check bypassed
//! (the hidden test switch `--no-disk-check`) the kernel refuses them itself:
//! it says why on the console and ends with status 252, no panic. A good
//! image works afterwards.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use abi::fs::{DEFAULT_DIR_ENTRIES, DirEntry, SECTOR, SuperBlock};
use faultline_tests::{RunOpts, TempDir, kernel, native_is_emulated, requested_mode, still_works};

const SIZE: u64 = 1 << 20;

/// A 1 MiB image with a valid superblock and `files` in its first slots.
fn image(files: &[DirEntry]) -> Vec<u8> {
    let sb = SuperBlock::new(SIZE / SECTOR as u64, DEFAULT_DIR_ENTRIES);
    let mut img = vec![0u8; SIZE as usize];
    img[..SECTOR].copy_from_slice(&sb.to_bytes());
    for (i, e) in files.iter().enumerate() {
        let at = SECTOR + i * 32;
        img[at..at + 32].copy_from_slice(&e.to_bytes());
    }
    img
}

/// The bad images, by name, with what the error must say.
fn bad_images() -> Vec<(&'static str, Vec<u8>, &'static str)> {
    let mut garbage = image(&[]);
    let mut x = 0x2545_f491_4f6c_dd1du64;
    for b in &mut garbage[SECTOR..SECTOR * 17] {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = x as u8;
    }
    let mut huge = vec![0u8; 16 << 20];
    let mut sb = SuperBlock::new((16 << 20) / SECTOR as u64, 1 << 16);
    sb.data_start = 1 + (1 << 16) / 16;
    huge[..SECTOR].copy_from_slice(&sb.to_bytes());
    let a = DirEntry::new(b"a", 100, 4096);
    let mut bad_name = DirEntry::new(b"x", 300, 10);
    bad_name.name[..3].copy_from_slice(b"a b");
    let mut truncated = image(&[a]);
    truncated.truncate(SECTOR * 64);
    vec![
        ("garbage", garbage, "directory entry 0: "),
        ("huge", huge, "65536 directory entries, more than the limit"),
        (
            "overlap",
            image(&[DirEntry::new(b"b", 104, 100), a]),
            "directory entry 0 (`b`): its sectors overlap those of entry 1",
        ),
        (
            "past-end",
            image(&[DirEntry::new(b"far", 2040, 8192)]),
            "directory entry 0 (`far`): sectors 2040..2056 lie outside the data area",
        ),
        (
            "bad-name",
            image(&[a, bad_name]),
            "directory entry 1: bad file name",
        ),
        ("truncated", truncated, "truncated"),
    ]
}

/// `faultline` on `disk` running `cmdline` (`extra` before `--`), without the
/// suite's `--user-dir`.
fn faultline(disk: &Path, extra: &[&str], cmdline: &str) -> (Option<i32>, String, String) {
    let mut cmd = Command::new(faultline_tests::vmm_bin());
    cmd.env_remove("FAULTLINE_USER_DIR")
        .arg("--kernel")
        .arg(kernel())
        .args(["--quiet", "--timeout", "60"]);
    let out = cmd
        .arg("--cpu-mode")
        .arg(requested_mode())
        .arg("--disk")
        .arg(disk)
        .args(extra)
        .arg("--")
        .arg(cmdline)
        .stdin(Stdio::null())
        .output()
        .expect("faultline runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn write_image(dir: &TempDir, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.path().join(format!("{name}.img"));
    fs::write(&path, bytes).expect("write the image");
    path
}

#[test]
fn the_vmm_refuses_bad_images() {
    let dir = TempDir::new("bad-disk");
    for (name, bytes, reason) in bad_images() {
        let path = write_image(&dir, name, &bytes);
        let (status, out, err) = faultline(&path, &["--mem", "8M"], "halt");
        assert_eq!(status, Some(252), "{name}: {err}");
        assert!(out.is_empty(), "{name}: nothing may boot: {out}");
        let want = format!("faultline: error: --disk {}: ", path.display());
        assert!(err.starts_with(&want), "{name}: {err}");
        assert!(err.contains(reason), "{name}: expected `{reason}` in {err}");
        assert_eq!(err.lines().count(), 1, "{name}: {err}");
        // The image is left as it was.
        assert_eq!(fs::read(&path).unwrap(), bytes, "{name}: image changed");
    }
    still_works();
}

#[test]
fn the_kernel_refuses_bad_images_without_panicking() {
    let dir = TempDir::new("bad-disk-kernel");
    // Where the native mode is emulated, two images are enough.
    let images = bad_images();
    let images = if native_is_emulated() {
        &images[..2]
    } else {
        &images[..]
    };
    for (name, bytes, reason) in images {
        let path = write_image(&dir, name, bytes);
        let (status, out, err) = faultline(&path, &["--mem", "8M", "--no-disk-check"], "halt");
        assert_eq!(status, Some(252), "{name}: stdout:\n{out}\nstderr:\n{err}");
        assert!(
            out.starts_with("faultline: cannot mount the file system: bad image: "),
            "{name}: {out}"
        );
        assert!(out.contains(reason), "{name}: expected `{reason}` in {out}");
        assert_eq!(out.lines().count(), 1, "{name}: {out}");
        assert!(!err.contains("panic"), "{name}: {err}");
        assert!(
            err.contains("the kernel refused the file-system image"),
            "{name}: {err}"
        );
    }
    still_works();
}

#[test]
fn the_switch_boots_a_good_image_as_it_is() {
    let dir = TempDir::new("good-disk");
    let path = dir.path().join("fs.img");
    // A run with the suite's options makes the image and copies the programs in.
    faultline_tests::expect::<&str>("halt", &RunOpts::new().disk(&path), &[], 0);
    let (status, out, err) = faultline(&path, &["--no-disk-check"], "fs-fork-ok");
    assert_eq!(status, Some(0), "stdout:\n{out}\nstderr:\n{err}");
    assert!(
        out.ends_with("(fs-fork-ok) end\nfs-fork-ok: exit(0)\n"),
        "{out}"
    );
}
