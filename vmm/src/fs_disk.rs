//! The file-system disk of a run. With `--disk IMAGE` it is that file, read
//! and written in place (created if missing, `--user-dir` and `--put` files
//! copied in). Otherwise it is the run's private copy-on-write view
//! ([`CowView`]) of the user directory's cached image ([`image_cache`]), or
//! of an empty image without `--user-dir`, with the `--put` files layered on
//! top: the run writes only what the guest writes, `--get` reads the run's
//! own view, and nothing is left behind. Either way the image is checked as
//! the kernel will check it before the VM boots.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};

use crate::config::Config;
use crate::cow_view::CowView;
use crate::fsimage::{FsImage, ImageStore};
use crate::image_cache::{self, Origin, UserDir};
use crate::virtio::backend::{Backend, FileBackend};

/// Where the image of a run is.
pub enum FsDisk {
    /// `--disk IMAGE`.
    File(PathBuf),
    /// The run's private view.
    View(CowView),
}

/// Where the image came from (for `--stats`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// A `--disk` image.
    Disk,
    /// A user directory's image: cached, built now, or private.
    UserDir(Origin),
    /// An empty image (no `--user-dir`).
    Empty,
    /// A `--disk` image handed over unchecked (`--no-disk-check`).
    Unchecked,
}

impl Source {
    /// How `--stats` names it.
    pub fn name(self) -> &'static str {
        match self {
            Source::Disk => "--disk image",
            Source::UserDir(Origin::Cached) => "cached image, copy-on-write",
            Source::UserDir(Origin::Built) => "image built and cached, copy-on-write",
            Source::UserDir(Origin::Private) => "image built for this run",
            Source::Empty => "empty image, copy-on-write",
            Source::Unchecked => "--disk image, unchecked",
        }
    }
}

impl FsDisk {
    /// Prepares the run's image (see the module doc) and checks it. Fails
    /// with what is wrong, labelled `--disk IMAGE: ...` for a `--disk` image.
    pub fn prepare(config: &Config) -> Result<(FsDisk, Source)> {
        if let Some(path) = &config.disk {
            return prepare_file(config, path);
        }
        let (mut image, source) = match &config.user_dir {
            Some(dir) => {
                let user = UserDir::scan(dir)?;
                let (image, origin) = image_cache::base_image(&user, config.fs_size)?;
                (image, Source::UserDir(origin))
            }
            None => {
                let view = CowView::anonymous(config.fs_size)?;
                let image = FsImage::format(view, config.fs_size, "the empty image".into())?;
                (image, Source::Empty)
            }
        };
        put_files(&mut image, config)?;
        image.check().context("the file-system image")?;
        Ok((FsDisk::View(image.into_store()), source))
    }

    /// The block-device backend serving this image. Fails if the file
    /// cannot be opened.
    pub fn backend(&self) -> Result<Box<dyn Backend>> {
        Ok(match self {
            FsDisk::File(path) => Box::new(FileBackend::open(path)?),
            FsDisk::View(view) => Box::new(view.clone()),
        })
    }

    /// Copies the `--get` files out of the image as the run left it. Fails
    /// if a file is missing or cannot be written.
    pub fn copy_out(&self, gets: &[(String, PathBuf)]) -> Result<()> {
        if gets.is_empty() {
            return Ok(());
        }
        match self {
            FsDisk::File(path) => copy_out(
                &FsImage::open(path)
                    .with_context(|| format!("--get: the image {}", path.display()))?,
                gets,
            ),
            FsDisk::View(view) => copy_out(
                &FsImage::load(view.clone(), "the run's image".into())
                    .context("--get: the run's image")?,
                gets,
            ),
        }
    }
}

/// `--disk IMAGE`: opens or creates it, copies files in, checks it.
fn prepare_file(config: &Config, path: &Path) -> Result<(FsDisk, Source)> {
    let label = || format!("--disk {}", path.display());
    if !config.check_disk {
        // The test switch `--no-disk-check`: the kernel gets the image as it is.
        return Ok((FsDisk::File(path.to_path_buf()), Source::Unchecked));
    }
    let mut image = if path.exists() {
        FsImage::open(path).with_context(label)?
    } else {
        FsImage::create(path, config.fs_size).with_context(label)?
    };
    if let Some(dir) = &config.user_dir {
        UserDir::scan(dir)?.copy_into(&mut image, config.fs_size)?;
    }
    put_files(&mut image, config)?;
    image.check().with_context(label)?;
    Ok((FsDisk::File(path.to_path_buf()), Source::Disk))
}

/// The contents of the regular file at `path`, read only if it has at most
/// `limit` bytes. Fails if it cannot be opened or read, is not a regular file
/// (a directory, a device such as `/dev/zero`, a pipe) or is larger than
/// `limit` (checked on the bytes read too, for a file that grows meanwhile).
pub fn read_file(path: &Path, limit: u64) -> Result<Vec<u8>> {
    let mut data = Vec::new();
    read_file_into(path, limit, &mut data)?;
    Ok(data)
}

/// [`read_file`], appending to `data` (whose capacity a caller may reuse
/// from file to file). Fails as it does; `data` then holds what was read.
pub fn read_file_into(path: &Path, limit: u64, data: &mut Vec<u8>) -> Result<()> {
    let file = fs::File::open(path)?;
    let len = check_regular(&file.metadata()?, limit)?;
    // Room for the whole file at once (and the byte that tells a file that
    // grew past the limit): `take` hides the size hint `read_to_end` would
    // otherwise grow the buffer by.
    let start = data.len();
    data.reserve(len.saturating_add(1));
    file.take(limit.saturating_add(1)).read_to_end(data)?;
    if (data.len() - start) as u64 > limit {
        return Err(too_large(limit));
    }
    Ok(())
}

/// The size of a regular file of metadata `meta`, if it has at most
/// `limit` bytes; fails as [`read_file`] does otherwise.
fn check_regular(meta: &fs::Metadata, limit: u64) -> Result<usize> {
    if !meta.is_file() {
        bail!("not a regular file");
    }
    match usize::try_from(meta.len()) {
        Ok(len) if meta.len() <= limit => Ok(len),
        _ => Err(too_large(limit)),
    }
}

/// The error of a file larger than the `limit`-byte file system.
fn too_large(limit: u64) -> anyhow::Error {
    anyhow!("larger than the {limit}-byte file system (use a larger --fs-size)")
}

/// Copies the `--put` files into `image` ([`FsImage::put_each`]: one
/// buffer for them all).
fn put_files<S: ImageStore>(image: &mut FsImage<S>, config: &Config) -> Result<()> {
    if config.puts.is_empty() {
        return Ok(());
    }
    let mut sizes = Vec::with_capacity(config.puts.len());
    for (host, name) in &config.puts {
        let len = fs::metadata(host)
            .map_err(anyhow::Error::from)
            .and_then(|meta| check_regular(&meta, config.fs_size))
            .with_context(|| format!("--put: reading {}", host.display()))?;
        sizes.push((name.as_str(), len));
    }
    image
        .put_each(sizes, |i, buf| {
            let host = &config.puts[i].0;
            read_file_into(host, config.fs_size, buf)
                .with_context(|| format!("reading {}", host.display()))
        })
        .context("--put")
}

fn copy_out<S: ImageStore>(image: &FsImage<S>, gets: &[(String, PathBuf)]) -> Result<()> {
    for (name, host) in gets {
        let data = image
            .get(name)?
            .with_context(|| format!("--get {name}: no such file in the guest file system"))?;
        fs::write(host, data)
            .with_context(|| format!("--get {name}: writing {}", host.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::read_file;
    use std::path::Path;

    #[test]
    fn only_regular_files_within_the_limit_are_read() {
        let e = read_file(Path::new("/dev/zero"), 1 << 20).unwrap_err();
        assert_eq!(e.to_string(), "not a regular file");
        let e = read_file(&std::env::temp_dir(), 1 << 20).unwrap_err();
        assert_eq!(e.to_string(), "not a regular file");
        let path = std::env::temp_dir().join(format!("faultline-read-file-{}", std::process::id()));
        std::fs::write(&path, [7u8; 100]).unwrap();
        assert_eq!(read_file(&path, 100).unwrap(), vec![7u8; 100]);
        let e = read_file(&path, 99).unwrap_err();
        assert!(e.to_string().starts_with("larger than the 99-byte"), "{e}");
        std::fs::remove_file(&path).unwrap();
        assert!(read_file(&path, 100).is_err());
    }
}
