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

/// A file that counts the writes made to it.
struct Counting {
    file: std::fs::File,
    writes: std::cell::Cell<usize>,
}

impl ImageStore for Counting {
    fn size(&self) -> std::io::Result<u64> {
        self.file.size()
    }
    fn set_size(&self, size: u64) -> std::io::Result<()> {
        self.file.set_size(size)
    }
    fn read_bytes_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
        self.file.read_bytes_at(buf, offset)
    }
    fn write_bytes_at(&self, buf: &[u8], offset: u64) -> std::io::Result<()> {
        self.writes.set(self.writes.get() + 1);
        self.file.write_bytes_at(buf, offset)
    }
}

fn counting(path: &std::path::Path) -> FsImage<Counting> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .unwrap();
    let store = Counting {
        file,
        writes: std::cell::Cell::new(0),
    };
    FsImage::load(store, "test".into()).unwrap()
}

fn three_files() -> Vec<(String, Vec<u8>)> {
    vec![
        ("a".into(), vec![1; 3000]),
        ("b".into(), vec![2; 700]),
        ("c".into(), vec![3; 5000]),
    ]
}

#[test]
fn copying_the_same_files_again_writes_only_the_directory() {
    let (_d, path) = image(1 << 20);
    FsImage::open(&path)
        .unwrap()
        .put_all(&three_files())
        .unwrap();
    let before = std::fs::read(&path).unwrap();
    let mut fs = counting(&path);
    fs.put_all(&three_files()).unwrap();
    assert_eq!(fs.store().writes.get(), 1, "the directory alone");
    assert_eq!(std::fs::read(&path).unwrap(), before);
    // A changed file is written, in place of its old copy.
    let mut files = three_files();
    files[1].1 = vec![9; 700];
    fs.put_all(&files).unwrap();
    assert_eq!(fs.store().writes.get(), 3);
    assert_eq!(fs.get("b").unwrap().unwrap(), vec![9; 700]);
}

#[test]
fn a_failed_batch_leaves_every_old_file_readable() {
    let (_d, path) = image(64 << 10);
    FsImage::open(&path)
        .unwrap()
        .put_all(&three_files())
        .unwrap();
    let mut fs = FsImage::open(&path).unwrap();
    // New bytes for every file, and a read failing at the last one.
    let sizes = [("a", 3000), ("b", 700), ("c", 5000)];
    let err = fs
        .put_each(sizes, |i, buf| {
            if i == 2 {
                anyhow::bail!("cannot read c");
            }
            buf.extend(std::iter::repeat_n(7, sizes[i].1));
            Ok(())
        })
        .unwrap_err();
    assert!(format!("{err:#}").contains("cannot read c"));
    // A file that is not the size it was said to be.
    let err = fs
        .put_each([("a", 3000)], |_, buf| {
            buf.extend([7; 10]);
            Ok(())
        })
        .unwrap_err();
    assert!(format!("{err:#}").contains("`a` changed while it was copied in"));
    // A batch that does not fit.
    let mut files = three_files();
    files.push(("huge".into(), vec![4; 100 << 10]));
    assert!(fs.put_all(&files).is_err());
    for fs in [fs, FsImage::open(&path).unwrap()] {
        for (name, data) in three_files() {
            assert_eq!(fs.get(&name).unwrap().unwrap(), data, "{name}");
        }
    }
}
