//! Host-side access to a file-system image in the "fltfs" format of
//! `abi::fs`: create an image, copy files in before a run and out after it.
//! Used by the VMM (`--user-dir`, `--put`, `--get`, `--disk`), xtask and tests.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use abi::fs::{
    DEFAULT_DIR_ENTRIES, DIRENT_SIZE, DirEntry, NameError, SECTOR, SuperBlock, check_directory,
    check_superblock,
};
use anyhow::{Context, Result, anyhow, bail};

const SECTOR_U64: u64 = SECTOR as u64;

/// An open file-system image.
#[derive(Debug)]
pub struct FsImage {
    file: File,
    path: PathBuf,
    sb: SuperBlock,
    entries: Vec<DirEntry>,
}

impl FsImage {
    /// Creates (or overwrites) an empty image of `size` bytes (rounded down to
    /// whole sectors) with the default number of directory entries.
    pub fn create(path: &Path, size: u64) -> Result<FsImage> {
        let total_sectors = size / SECTOR_U64;
        let sb = SuperBlock::new(total_sectors, DEFAULT_DIR_ENTRIES);
        if total_sectors <= sb.data_start || total_sectors > u64::from(u32::MAX) {
            bail!(
                "cannot create file-system image {}: size {size} is out of range ({} to {} bytes)",
                path.display(),
                (sb.data_start + 1) * SECTOR_U64,
                u64::from(u32::MAX) * SECTOR_U64
            );
        }
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
            .with_context(|| format!("creating file-system image {}", path.display()))?;
        file.set_len(total_sectors * SECTOR_U64)
            .with_context(|| format!("sizing file-system image {}", path.display()))?;
        file.write_all_at(&sb.to_bytes(), 0)
            .with_context(|| format!("writing the superblock of {}", path.display()))?;
        Ok(FsImage {
            file,
            path: path.to_path_buf(),
            sb,
            entries: vec![DirEntry::default(); sb.dir_entries as usize],
        })
    }

    /// Opens an existing image and checks all of it: the superblock against
    /// the file's size and every directory entry (`abi::fs::check_superblock`
    /// and `check_directory`, the checks the kernel makes when it mounts).
    /// Fails with what is wrong; the message does not name the file (callers
    /// do, e.g. `--disk IMAGE: ...`).
    pub fn open(path: &Path) -> Result<FsImage> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .context("cannot open it")?;
        let len = file.metadata().context("cannot read its size")?.len();
        let mut sector = [0u8; SECTOR];
        let have = if len >= SECTOR_U64 { SECTOR } else { 0 };
        file.read_exact_at(&mut sector[..have], 0)
            .context("cannot read its superblock")?;
        let sb = check_superblock(&sector[..have], len / SECTOR_U64).map_err(|e| anyhow!("{e}"))?;
        let mut table = vec![0u8; sb.dir_entries as usize * DIRENT_SIZE];
        file.read_exact_at(&mut table, sb.dir_start * SECTOR_U64)
            .context("cannot read its directory")?;
        let entries: Vec<DirEntry> = table
            .chunks_exact(DIRENT_SIZE)
            .map(DirEntry::from_bytes)
            .collect();
        let mut scratch = vec![0u32; entries.len()];
        check_directory(&sb, &entries, &mut scratch).map_err(|e| anyhow!("{e}"))?;
        Ok(FsImage {
            file,
            path: path.to_path_buf(),
            sb,
            entries,
        })
    }

    /// Checks the superblock and the directory as they stand (what
    /// [`FsImage::open`] checks, without reading the file again). Fails with
    /// what is wrong.
    pub fn check(&self) -> Result<()> {
        let mut scratch = vec![0u32; self.entries.len()];
        check_directory(&self.sb, &self.entries, &mut scratch).map_err(|e| anyhow!("{e}"))
    }

    /// The image's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The superblock.
    pub fn superblock(&self) -> &SuperBlock {
        &self.sb
    }

    fn find(&self, name: &[u8]) -> Option<usize> {
        self.entries
            .iter()
            .position(|e| e.in_use() && e.name() == name)
    }

    fn write_entry(&mut self, index: usize, entry: DirEntry) -> Result<()> {
        let offset = self.sb.dir_start * SECTOR_U64 + (index * DIRENT_SIZE) as u64;
        self.file
            .write_all_at(&entry.to_bytes(), offset)
            .with_context(|| format!("writing the directory of {}", self.path.display()))?;
        self.entries[index] = entry;
        Ok(())
    }

    /// Chooses where `name` (of `len` bytes) goes: its directory index (the
    /// existing entry of that name, or a free one) and its first sector.
    fn place(&self, name: &str, len: usize) -> Result<(usize, DirEntry)> {
        check_name(name)?;
        let size = u32::try_from(len)
            .ok()
            .with_context(|| format!("`{name}` is too large ({len} bytes)"))?;
        let existing = self.find(name.as_bytes());
        let mut used: Vec<(u64, u64)> = self
            .entries
            .iter()
            .enumerate()
            .filter(|&(i, e)| e.in_use() && Some(i) != existing)
            .map(|(_, e)| e.extent())
            .collect();
        let sectors = abi::fs::sectors_for(len as u64);
        let Some(start) = abi::fs::find_free_extent(&mut used, &self.sb, sectors) else {
            bail!(
                "file system full: no room for `{name}` ({len} bytes) in {} (use a larger --fs-size)",
                self.path.display()
            );
        };
        let Some(index) = existing.or_else(|| self.entries.iter().position(|e| !e.in_use())) else {
            bail!(
                "directory full ({} entries): cannot add `{name}` to {}",
                self.sb.dir_entries,
                self.path.display()
            );
        };
        let start = u32::try_from(start).context("extent start out of range")?;
        Ok((index, DirEntry::new(name.as_bytes(), start, size)))
    }

    /// `data` padded to whole sectors.
    fn padded(data: &[u8]) -> Vec<u8> {
        let mut padded = data.to_vec();
        padded.resize(
            (abi::fs::sectors_for(data.len() as u64) * SECTOR_U64) as usize,
            0,
        );
        padded
    }

    /// Stores `data` as `name`, replacing an existing file of that name.
    pub fn put(&mut self, name: &str, data: &[u8]) -> Result<()> {
        let (index, entry) = self.place(name, data.len())?;
        self.file
            .write_all_at(&Self::padded(data), entry.start as u64 * SECTOR_U64)
            .with_context(|| format!("writing `{name}` into {}", self.path.display()))?;
        self.write_entry(index, entry)
    }

    /// Stores every `(name, data)` like [`FsImage::put`] on each in order, but
    /// with one write per run of adjacent extents and one for the directory
    /// (a boot copies every user program in).
    pub fn put_all(&mut self, files: &[(String, Vec<u8>)]) -> Result<()> {
        let mut writes: Vec<(u64, Vec<u8>)> = Vec::new();
        for (name, data) in files {
            let (index, entry) = self.place(name, data.len())?;
            self.entries[index] = entry;
            let offset = entry.start as u64 * SECTOR_U64;
            match writes.last_mut() {
                Some((at, buf)) if *at + buf.len() as u64 == offset => {
                    buf.extend(Self::padded(data))
                }
                _ => writes.push((offset, Self::padded(data))),
            }
        }
        for (offset, buf) in &writes {
            self.file
                .write_all_at(buf, *offset)
                .with_context(|| format!("writing files into {}", self.path.display()))?;
        }
        let table: Vec<u8> = self.entries.iter().flat_map(|e| e.to_bytes()).collect();
        self.file
            .write_all_at(&table, self.sb.dir_start * SECTOR_U64)
            .with_context(|| format!("writing the directory of {}", self.path.display()))
    }

    /// The contents of `name`, or `None` if there is no such file.
    pub fn get(&self, name: &str) -> Result<Option<Vec<u8>>> {
        let Some(index) = self.find(name.as_bytes()) else {
            return Ok(None);
        };
        let e = self.entries[index];
        let (start, end) = e.extent();
        if start < self.sb.data_start || end > self.sb.total_sectors {
            bail!(
                "corrupt directory entry for `{name}` in {} (sectors {start}..{end})",
                self.path.display()
            );
        }
        let mut data = vec![0u8; e.size as usize];
        self.file
            .read_exact_at(&mut data, start * SECTOR_U64)
            .with_context(|| format!("reading `{name}` from {}", self.path.display()))?;
        Ok(Some(data))
    }

    /// Names and sizes of all files, in directory order.
    pub fn list(&self) -> Result<Vec<(String, u64)>> {
        Ok(self
            .entries
            .iter()
            .filter(|e| e.in_use())
            .map(|e| {
                (
                    String::from_utf8_lossy(e.name()).into_owned(),
                    u64::from(e.size),
                )
            })
            .collect())
    }

    /// Deletes `name`; returns whether it existed.
    pub fn remove(&mut self, name: &str) -> Result<bool> {
        match self.find(name.as_bytes()) {
            Some(index) => {
                self.write_entry(index, DirEntry::default())?;
                Ok(true)
            }
            None => Ok(false),
        }
    }
}

/// Checks a guest file name, with an error naming it.
fn check_name(name: &str) -> Result<()> {
    match abi::fs::validate_name(name.as_bytes()) {
        Ok(()) => Ok(()),
        Err(NameError::Empty) => bail!("bad guest file name: empty"),
        Err(NameError::TooLong) => bail!(
            "bad guest file name `{name}`: longer than {} bytes",
            abi::syscall::NAME_MAX
        ),
        Err(NameError::BadChar) => {
            bail!("bad guest file name `{name}`: contains a space, '/' or NUL")
        }
    }
}

#[cfg(test)]
mod tests {
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
}
