//! File-system images built once per user directory and shared by every run
//! (`--user-dir` without `--disk`): the image of a directory is built, checked
//! and published in the cache under a key made of the directory's files
//! (names, sizes, modification and change times, inodes) and the image size;
//! later runs map it copy-on-write ([`CowView`]) instead of copying every
//! program in again. A changed directory gives a new key, so a new image.
//!
//! A file changed less than [`RACY_WINDOW`] before the build may still
//! change within the same tick of the file-time clock without its times
//! changing; such an image is used for the run but not published (as git
//! treats "racily clean" entries).
//!
//! Safe under concurrency and kills: an image is built in an unnamed file
//! (`O_TMPFILE`) in the cache directory and given its name (`linkat`) only
//! once it is complete and checked, so no run ever sees half an image and a
//! killed builder leaves nothing behind; a run that finds the name taken uses
//! its own identical copy. Only the newest [`KEEP`] images are kept. Where no
//! cache can be written, the image is built privately in memory instead.
//!
//! The cache directory is `$FAULTLINE_CACHE_DIR` (xtask points it into the
//! build's target directory), else `$XDG_CACHE_HOME/faultline`, else
//! `$HOME/.cache/faultline`, else `faultline-cache` in the temporary directory.

use std::collections::hash_map::DefaultHasher;
use std::fs::{self, File, OpenOptions};
use std::hash::{Hash, Hasher};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result, bail};

use crate::cow_view::CowView;
use crate::fsimage::FsImage;

/// The environment variable naming the cache directory.
pub const CACHE_DIR_ENV: &str = "FAULTLINE_CACHE_DIR";

/// Images kept in the cache (the newest ones).
pub const KEEP: usize = 8;

/// Files changed this recently make an image unfit to publish.
pub const RACY_WINDOW: Duration = Duration::from_millis(50);

/// Changes when the way images are built changes.
const BUILD_VERSION: u32 = 1;

/// Where a run's base image came from (for `--stats`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Found in the cache.
    Cached,
    /// Built now and published in the cache.
    Built,
    /// Built now for this run only (no usable cache, or the directory
    /// changed while it was read).
    Private,
}

/// The regular files of a user directory (symbolic links followed), sorted
/// by name, with the metadata the key is made of.
pub struct UserDir {
    dir: PathBuf,
    files: Vec<(String, PathBuf, fs::Metadata)>,
}

impl UserDir {
    /// Lists `dir`. Fails if it cannot be read or a file name is not UTF-8.
    pub fn scan(dir: &Path) -> Result<UserDir> {
        let what = || format!("--user-dir: reading {}", dir.display());
        let mut files = Vec::new();
        for entry in fs::read_dir(dir).with_context(what)? {
            let entry = entry.with_context(what)?;
            let path = entry.path();
            // The entry's own metadata needs no path walk; a symbolic link
            // is followed.
            let meta = match entry.file_type() {
                Ok(t) if t.is_symlink() => fs::metadata(&path),
                _ => entry.metadata(),
            };
            let Ok(meta) = meta else {
                continue; // gone, or a dangling link: not a file
            };
            if !meta.is_file() {
                continue;
            }
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .with_context(|| format!("--user-dir: file name {} is not UTF-8", path.display()))?
                .to_string();
            files.push((name, path, meta));
        }
        files.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(UserDir {
            dir: dir.to_path_buf(),
            files,
        })
    }

    /// The cache key of this directory's image of `fs_size` bytes: 128 bits
    /// of hash, in hex.
    pub fn key(&self, fs_size: u64) -> String {
        let hash = |seed: u64| {
            let mut h = DefaultHasher::new();
            seed.hash(&mut h);
            (BUILD_VERSION, abi::marker::ABI_VERSION, abi::fs::FS_MAGIC).hash(&mut h);
            (abi::fs::DEFAULT_DIR_ENTRIES, fs_size).hash(&mut h);
            for (name, _, m) in &self.files {
                name.hash(&mut h);
                (m.len(), m.dev(), m.ino()).hash(&mut h);
                (m.mtime(), m.mtime_nsec(), m.ctime(), m.ctime_nsec()).hash(&mut h);
            }
            h.finish()
        };
        format!("{:016x}{:016x}", hash(1), hash(2))
    }

    /// Whether a file changed within [`RACY_WINDOW`] of now.
    fn recently_changed(&self) -> bool {
        let now = SystemTime::now();
        self.files.iter().any(|(_, _, m)| {
            let secs = u64::try_from(m.ctime()).unwrap_or(0);
            let changed = SystemTime::UNIX_EPOCH
                + Duration::new(secs, u32::try_from(m.ctime_nsec()).unwrap_or(0));
            now.duration_since(changed)
                .map_or(true, |age| age < RACY_WINDOW)
        })
    }

    /// Copies every file into `image` ([`FsImage::put_each`]: one buffer,
    /// a write per file). Fails if one cannot be read, does not fit or
    /// changed since the scan, or if together they are larger than `limit`
    /// bytes (the file system's size: they could not fit, and nothing is
    /// read).
    pub fn copy_into<S: crate::fsimage::ImageStore>(
        &self,
        image: &mut FsImage<S>,
        limit: u64,
    ) -> Result<()> {
        let total: u64 = self.files.iter().map(|(_, _, m)| m.len()).sum();
        if total > limit {
            bail!(
                "--user-dir: the files of {} ({total} bytes) do not fit in a {limit}-byte file system (use a larger --fs-size)",
                self.dir.display()
            );
        }
        let mut sizes = Vec::with_capacity(self.files.len());
        for (name, path, meta) in &self.files {
            let size = usize::try_from(meta.len())
                .with_context(|| format!("--user-dir: {} is too large", path.display()))?;
            sizes.push((name.as_str(), size));
        }
        image
            .put_each(sizes, |i, buf| {
                let path = &self.files[i].1;
                crate::fs_disk::read_file_into(path, limit, buf)
                    .with_context(|| format!("reading {}", path.display()))
            })
            .with_context(|| format!("--user-dir: copying {}", self.dir.display()))
    }

    /// Builds the image of this directory in `store`.
    fn build_in<S: crate::fsimage::ImageStore>(
        &self,
        store: S,
        fs_size: u64,
    ) -> Result<FsImage<S>> {
        let label = format!("the image of {}", self.dir.display());
        let mut image = FsImage::format(store, fs_size, label)?;
        self.copy_into(&mut image, fs_size)?;
        image.check()?;
        Ok(image)
    }
}

/// The cache directory (see the module doc); `None` if none can be named.
pub fn cache_dir() -> Option<PathBuf> {
    let env = |name| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(dir) = env(CACHE_DIR_ENV) {
        return Some(dir);
    }
    if let Some(dir) = env("XDG_CACHE_HOME").filter(|d| d.is_absolute()) {
        return Some(dir.join("faultline"));
    }
    if let Some(home) = env("HOME").filter(|d| d.is_absolute()) {
        return Some(home.join(".cache").join("faultline"));
    }
    Some(std::env::temp_dir().join("faultline-cache"))
}

/// The image of `user` for a disk of `fs_size` bytes, as the run's private
/// view: from the cache ([`cache_dir`]) if it holds a valid one, else built
/// (and published when it can be). Fails only if the directory cannot be
/// read or its files do not fit the image.
pub fn base_image(user: &UserDir, fs_size: u64) -> Result<(FsImage<CowView>, Origin)> {
    base_image_in(user, fs_size, cache_dir().as_deref())
}

/// [`base_image`] with the cache in `cache` (`None`: no cache).
pub fn base_image_in(
    user: &UserDir,
    fs_size: u64,
    cache: Option<&Path>,
) -> Result<(FsImage<CowView>, Origin)> {
    let key = user.key(fs_size);
    let Some(cache) = cache.filter(|d| fs::create_dir_all(d).is_ok()) else {
        return private(user, fs_size);
    };
    let path = cache.join(format!("fs-{key}.img"));
    if let Ok(file) = File::open(&path) {
        let label = path.display().to_string();
        match CowView::of_file(file).and_then(|v| FsImage::load(v, label)) {
            Ok(image) => return Ok((image, Origin::Cached)),
            // A damaged cache entry: drop it and build a new one.
            Err(_) => {
                let _ = fs::remove_file(&path);
            }
        }
    }
    let Ok(file) = OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_TMPFILE)
        .mode(0o644)
        .open(cache)
    else {
        return private(user, fs_size);
    };
    let file = user.build_in(file, fs_size)?.into_store();
    // Publish only what matches the key: the directory must not have
    // changed while it was read, nor too recently before.
    let unchanged = UserDir::scan(&user.dir)
        .is_ok_and(|now| now.key(fs_size) == key && !now.recently_changed());
    let origin = if unchanged && publish(&file, &path) {
        prune(cache, &path);
        Origin::Built
    } else {
        Origin::Private
    };
    let view = CowView::of_file(file)?;
    let image = FsImage::load(view, path.display().to_string())?;
    Ok((image, origin))
}

/// Builds the image of `user` in memory for this run only.
fn private(user: &UserDir, fs_size: u64) -> Result<(FsImage<CowView>, Origin)> {
    let view = CowView::anonymous(fs_size)?;
    Ok((user.build_in(view, fs_size)?, Origin::Private))
}

/// Gives the unnamed `file` the name `path`; whether `path` now names an
/// image of this key (made by this run or by another one).
fn publish(file: &File, path: &Path) -> bool {
    let fd = format!("/proc/self/fd/{}", file.as_raw_fd());
    let cwd = rustix::fs::CWD;
    match rustix::fs::linkat(
        cwd,
        fd.as_str(),
        cwd,
        path,
        rustix::fs::AtFlags::SYMLINK_FOLLOW,
    ) {
        Ok(()) => true,
        Err(e) => e == rustix::io::Errno::EXIST,
    }
}

/// Removes all but the newest [`KEEP`] images of the cache (never `current`).
fn prune(cache: &Path, current: &Path) {
    let Ok(entries) = fs::read_dir(cache) else {
        return;
    };
    let mut images: Vec<(std::time::SystemTime, PathBuf)> = entries
        .filter_map(|e| e.ok())
        .filter(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            name.starts_with("fs-") && name.ends_with(".img")
        })
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .collect();
    images.sort_by_key(|image| std::cmp::Reverse(image.0));
    for (_, path) in images.into_iter().skip(KEEP) {
        if path != current {
            let _ = fs::remove_file(path);
        }
    }
}

#[cfg(test)]
mod tests;
