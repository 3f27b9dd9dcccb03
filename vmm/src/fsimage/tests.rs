//! Host unit tests of the image format code: files in and out, reuse of
//! space, bad names, full directories, and images refused when opened.

use std::path::PathBuf;

use super::*;

fn image(size: u64) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fs.img");
    FsImage::create(&path, size).unwrap();
    (dir, path)
}

#[test]
fn put_get_list_remove_and_reopen() {
    let (_d, path) = image(1 << 20);
    let mut fs = FsImage::open(&path).unwrap();
    assert_eq!(fs.list().unwrap(), vec![]);
    fs.put("echo", b"ELF...").unwrap();
    fs.put("empty", b"").unwrap();
    let big: Vec<u8> = (0..5000u32).map(|i| i as u8).collect();
    fs.put("big", &big).unwrap();
    assert_eq!(fs.get("echo").unwrap().unwrap(), b"ELF...");
    assert_eq!(fs.get("empty").unwrap().unwrap(), b"");
    assert_eq!(fs.get("missing").unwrap(), None);
    drop(fs);
    let mut fs = FsImage::open(&path).unwrap();
    assert_eq!(
        fs.list().unwrap(),
        vec![
            ("echo".into(), 6),
            ("empty".into(), 0),
            ("big".into(), 5000)
        ]
    );
    assert_eq!(fs.get("big").unwrap().unwrap(), big);
    // Replacing keeps one entry.
    fs.put("echo", b"v2").unwrap();
    assert_eq!(fs.get("echo").unwrap().unwrap(), b"v2");
    assert_eq!(fs.list().unwrap().len(), 3);
    assert!(fs.remove("echo").unwrap());
    assert!(!fs.remove("echo").unwrap());
    assert_eq!(fs.get("echo").unwrap(), None);
    assert_eq!(fs.list().unwrap().len(), 2);
}

#[test]
fn put_all_matches_put_one_by_one() {
    let files: Vec<(String, Vec<u8>)> = vec![
        ("echo".into(), b"ELF...".to_vec()),
        ("empty".into(), vec![]),
        ("big".into(), (0..5000u32).map(|i| i as u8).collect()),
        ("echo".into(), b"v2".to_vec()),
    ];
    let (_a, batch) = image(1 << 20);
    let (_b, single) = image(1 << 20);
    FsImage::open(&batch).unwrap().put_all(&files).unwrap();
    let mut one = FsImage::open(&single).unwrap();
    for (name, data) in &files {
        one.put(name, data).unwrap();
    }
    drop(one);
    // Same files, same bytes, same layout: the images are identical.
    assert_eq!(
        std::fs::read(&batch).unwrap(),
        std::fs::read(&single).unwrap()
    );
    let fs = FsImage::open(&batch).unwrap();
    assert_eq!(fs.get("echo").unwrap().unwrap(), b"v2");
    assert_eq!(fs.list().unwrap().len(), 3);
    // A batch that does not fit fails naming the file.
    let (_c, small) = image(64 << 10);
    let err = FsImage::open(&small)
        .unwrap()
        .put_all(&[("huge".into(), vec![1; 100 << 10])]);
    assert!(format!("{:#}", err.unwrap_err()).contains("huge"));
}

#[test]
fn space_is_reused_and_files_do_not_overlap() {
    let (_d, path) = image(64 << 10); // 128 sectors, 17 of metadata
    let mut fs = FsImage::open(&path).unwrap();
    let half = 55 * 512; // two halves leave one free sector
    fs.put("a", &vec![1; half]).unwrap();
    fs.put("b", &vec![2; half]).unwrap();
    let err = fs.put("c", &[3; 1024]).unwrap_err().to_string();
    assert!(
        err.contains("file system full") && err.contains("`c`"),
        "{err}"
    );
    fs.remove("a").unwrap();
    fs.put("c", &[3; 1024]).unwrap();
    assert_eq!(fs.get("b").unwrap().unwrap(), vec![2; half]);
    assert_eq!(fs.get("c").unwrap().unwrap(), vec![3; 1024]);
    // Replacing a file may reuse its own space.
    fs.put("b", &vec![4; half]).unwrap();
    assert_eq!(fs.get("b").unwrap().unwrap(), vec![4; half]);
}

#[test]
fn bad_names_and_full_directory() {
    let (_d, path) = image(1 << 20);
    let mut fs = FsImage::open(&path).unwrap();
    for bad in ["", "fifteen-chars-x", "a/b", "a b"] {
        assert!(fs.put(bad, b"x").is_err(), "{bad:?}");
    }
    let err = fs.put("fifteen-chars-x", b"x").unwrap_err().to_string();
    assert!(err.contains("fifteen-chars-x"), "{err}");
    for i in 0..DEFAULT_DIR_ENTRIES {
        fs.put(&format!("f{i}"), b"").unwrap();
    }
    let err = fs.put("one-more", b"").unwrap_err().to_string();
    assert!(
        err.contains("directory full") && err.contains("one-more"),
        "{err}"
    );
    fs.put("f7", b"replaced").unwrap();
}

#[test]
fn open_rejects_garbage_and_truncation() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk");
    std::fs::write(&junk, vec![0u8; 4096]).unwrap();
    let err = FsImage::open(&junk).unwrap_err().to_string();
    assert!(err.contains("not a faultline file-system image"), "{err}");
    let (_d, path) = image(1 << 20);
    File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(4096)
        .unwrap();
    assert!(FsImage::open(&path).is_err());
    assert!(FsImage::open(&dir.path().join("missing")).is_err());
    assert!(FsImage::create(&dir.path().join("tiny"), 4096).is_err());
}
