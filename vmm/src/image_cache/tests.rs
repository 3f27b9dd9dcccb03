//! Host tests of the image cache: build once then reuse, a new image for a
//! changed directory, concurrent builders, damaged entries, pruning, no
//! usable cache, and private writes.

use std::fs;
use std::path::Path;
use std::time::Duration;

use super::*;
use crate::fsimage::ImageStore;

const SIZE: u64 = 1 << 20;

fn user_dir(root: &Path) -> PathBuf {
    let dir = root.join("bin");
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("echo"), b"ELF echo").unwrap();
    fs::write(dir.join("cat"), vec![3u8; 5000]).unwrap();
    fs::create_dir_all(dir.join("subdir")).unwrap();
    settle();
    dir
}

/// Waits until the files written so far are older than the racy window.
fn settle() {
    std::thread::sleep(RACY_WINDOW + Duration::from_millis(20));
}

/// The files in the cache directory, sorted.
fn cached(cache: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(cache)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn list(image: &FsImage<CowView>) -> Vec<(String, u64)> {
    image.list().unwrap()
}

#[test]
fn built_once_then_reused() {
    let root = tempfile::tempdir().unwrap();
    let (dir, cache) = (user_dir(root.path()), root.path().join("cache"));
    let user = UserDir::scan(&dir).unwrap();
    let (image, origin) = base_image_in(&user, SIZE, Some(&cache)).unwrap();
    assert_eq!(origin, Origin::Built);
    assert_eq!(list(&image), vec![("cat".into(), 5000), ("echo".into(), 8)]);
    let names = cached(&cache);
    assert_eq!(names, vec![format!("fs-{}.img", user.key(SIZE))]);
    let (again, origin) = base_image_in(&UserDir::scan(&dir).unwrap(), SIZE, Some(&cache)).unwrap();
    assert_eq!(origin, Origin::Cached);
    assert_eq!(again.get("echo").unwrap().unwrap(), b"ELF echo");
    // Another image size is another image.
    let (_, origin) = base_image_in(&user, 2 * SIZE, Some(&cache)).unwrap();
    assert_eq!(origin, Origin::Built);
    assert_eq!(cached(&cache).len(), 2);
}

#[test]
fn a_changed_directory_gets_a_new_image() {
    let root = tempfile::tempdir().unwrap();
    let (dir, cache) = (user_dir(root.path()), root.path().join("cache"));
    let first = UserDir::scan(&dir).unwrap();
    base_image_in(&first, SIZE, Some(&cache)).unwrap();
    // Same size, new contents: the change time differs.
    fs::write(dir.join("echo"), b"ELF ECHO").unwrap();
    // Right after a change the image is not published.
    let (image, origin) = base_image_in(&UserDir::scan(&dir).unwrap(), SIZE, Some(&cache)).unwrap();
    assert_eq!(origin, Origin::Private);
    assert_eq!(image.get("echo").unwrap().unwrap(), b"ELF ECHO");
    settle();
    let second = UserDir::scan(&dir).unwrap();
    assert_ne!(first.key(SIZE), second.key(SIZE));
    let (image, origin) = base_image_in(&second, SIZE, Some(&cache)).unwrap();
    assert_eq!(origin, Origin::Built);
    assert_eq!(image.get("echo").unwrap().unwrap(), b"ELF ECHO");
    fs::write(dir.join("new"), b"").unwrap();
    settle();
    let (image, _) = base_image_in(&UserDir::scan(&dir).unwrap(), SIZE, Some(&cache)).unwrap();
    assert_eq!(list(&image).len(), 3);
    assert_eq!(cached(&cache).len(), 3);
}

#[test]
fn concurrent_builders_all_get_whole_images_and_leave_one() {
    let root = tempfile::tempdir().unwrap();
    let (dir, cache) = (user_dir(root.path()), root.path().join("cache"));
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let (dir, cache) = (dir.clone(), cache.clone());
            std::thread::spawn(move || {
                let user = UserDir::scan(&dir).unwrap();
                let (image, _) = base_image_in(&user, SIZE, Some(&cache)).unwrap();
                image.check().unwrap();
                assert_eq!(image.get("cat").unwrap().unwrap(), vec![3u8; 5000]);
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    // One image and no temporary files.
    assert_eq!(cached(&cache).len(), 1);
}

#[test]
fn a_damaged_entry_is_rebuilt() {
    let root = tempfile::tempdir().unwrap();
    let (dir, cache) = (user_dir(root.path()), root.path().join("cache"));
    let user = UserDir::scan(&dir).unwrap();
    base_image_in(&user, SIZE, Some(&cache)).unwrap();
    let entry = cache.join(format!("fs-{}.img", user.key(SIZE)));
    fs::write(&entry, vec![0xffu8; 4096]).unwrap();
    let (image, origin) = base_image_in(&user, SIZE, Some(&cache)).unwrap();
    assert_eq!(origin, Origin::Built);
    assert_eq!(list(&image).len(), 2);
    assert_eq!(fs::metadata(&entry).unwrap().len(), SIZE);
}

#[test]
fn only_the_newest_images_are_kept() {
    let root = tempfile::tempdir().unwrap();
    let (dir, cache) = (user_dir(root.path()), root.path().join("cache"));
    let user = UserDir::scan(&dir).unwrap();
    for i in 0..KEEP as u64 + 3 {
        base_image_in(&user, SIZE + i * 512, Some(&cache)).unwrap();
    }
    assert_eq!(cached(&cache).len(), KEEP);
    // The newest is among them.
    let newest = format!("fs-{}.img", user.key(SIZE + (KEEP as u64 + 2) * 512));
    assert!(cached(&cache).contains(&newest));
}

#[test]
fn without_a_usable_cache_the_image_is_private() {
    let root = tempfile::tempdir().unwrap();
    let dir = user_dir(root.path());
    let not_a_dir = root.path().join("file");
    fs::write(&not_a_dir, b"x").unwrap();
    let user = UserDir::scan(&dir).unwrap();
    for cache in [None, Some(not_a_dir.as_path())] {
        let (image, origin) = base_image_in(&user, SIZE, cache).unwrap();
        assert_eq!(origin, Origin::Private);
        assert_eq!(list(&image).len(), 2);
    }
}

#[test]
fn a_runs_writes_stay_out_of_the_cache() {
    let root = tempfile::tempdir().unwrap();
    let (dir, cache) = (user_dir(root.path()), root.path().join("cache"));
    let user = UserDir::scan(&dir).unwrap();
    let (mut image, _) = base_image_in(&user, SIZE, Some(&cache)).unwrap();
    image.put("mine", b"only this run").unwrap();
    image.store().write_bytes_at(&[9; 512], 100 * 512).unwrap();
    let (other, origin) = base_image_in(&user, SIZE, Some(&cache)).unwrap();
    assert_eq!(origin, Origin::Cached);
    assert_eq!(other.get("mine").unwrap(), None);
    let mut sector = [1u8; 512];
    other.store().read_bytes_at(&mut sector, 100 * 512).unwrap();
    assert_eq!(sector, [0; 512]);
}

#[test]
fn the_cache_directory_follows_the_environment_rules() {
    // Only reads the environment: whatever it holds, some directory is named.
    assert!(cache_dir().is_some());
}
