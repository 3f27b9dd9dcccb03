//! A test's own temporary directory (generated input files, disk images,
//! traces), removed when the test passes and kept when it fails, so that the
//! `faultline` command a failure prints still finds its files.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::run::showing;

/// A fresh, empty directory for one test's files, removed when dropped
/// unless the test is failing (panicking) or runs are shown
/// (`FAULTLINE_SHOW`): then it is kept and its path printed on stderr.
pub struct TempDir(PathBuf);

impl TempDir {
    /// Creates `<tmp>/faultline-<tag>-<pid>-<n>`. Panics when it cannot.
    pub fn new(tag: &str) -> TempDir {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("faultline-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display()));
        TempDir(path)
    }

    /// The directory's path.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::thread::panicking() || showing() {
            eprintln!("kept {} for the reproduction", self.0.display());
            return;
        }
        // Best effort: a leftover temporary directory is harmless.
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
