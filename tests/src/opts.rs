//! The options of one VM run beyond the defaults, built up by the tests
//! (`RunOpts::new().user_mem("2M").swap("16M")`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::paths::data_file;

/// The VM's wall-clock limit in seconds, unless a test asks for another.
pub const DEFAULT_TIMEOUT: u64 = 60;

/// Options of one VM run beyond the defaults.
#[derive(Clone, Debug)]
pub struct RunOpts {
    /// `--mem`.
    pub mem: Option<String>,
    /// `--user-mem`.
    pub user_mem: Option<String>,
    /// `--put` arguments (`HOST[:NAME]`).
    pub puts: Vec<String>,
    /// `--get` arguments (`NAME[:HOST]`).
    pub gets: Vec<String>,
    /// `--disk`.
    pub disk: Option<PathBuf>,
    /// `--swap`.
    pub swap: Option<String>,
    /// `--timeout`.
    pub timeout: Duration,
}

impl Default for RunOpts {
    fn default() -> Self {
        RunOpts {
            mem: None,
            user_mem: None,
            puts: Vec::new(),
            gets: Vec::new(),
            disk: None,
            swap: None,
            timeout: Duration::from_secs(DEFAULT_TIMEOUT),
        }
    }
}

impl RunOpts {
    /// Every option at its default.
    pub fn new() -> RunOpts {
        RunOpts::default()
    }

    /// Puts `sample.txt` into the guest file system.
    pub fn sample(self) -> RunOpts {
        let path = data_file("sample.txt");
        self.put(&path.to_string_lossy())
    }

    /// Adds `--put SPEC`.
    pub fn put(mut self, spec: &str) -> RunOpts {
        self.puts.push(spec.to_owned());
        self
    }

    /// Adds `--get SPEC`.
    pub fn get(mut self, spec: &str) -> RunOpts {
        self.gets.push(spec.to_owned());
        self
    }

    /// Sets `--disk`.
    pub fn disk(mut self, image: &Path) -> RunOpts {
        self.disk = Some(image.to_owned());
        self
    }

    /// Sets `--mem`.
    pub fn mem(mut self, size: &str) -> RunOpts {
        self.mem = Some(size.to_owned());
        self
    }

    /// Sets `--user-mem`.
    pub fn user_mem(mut self, size: &str) -> RunOpts {
        self.user_mem = Some(size.to_owned());
        self
    }

    /// Sets `--swap`.
    pub fn swap(mut self, size: &str) -> RunOpts {
        self.swap = Some(size.to_owned());
        self
    }

    /// Sets `--timeout` in seconds.
    pub fn timeout(self, secs: u64) -> RunOpts {
        self.timeout_exact(Duration::from_secs(secs))
    }

    /// Sets `--timeout` to `time` (the VMM takes milliseconds: finer is
    /// rounded down, but never to 0, which would mean no timeout).
    pub fn timeout_exact(mut self, time: Duration) -> RunOpts {
        self.timeout = time.max(Duration::from_millis(1));
        self
    }
}
