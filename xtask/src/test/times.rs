//! How long each test took last time, so that the next run starts the
//! slowest first and no worker is left with a long test at the end (the
//! suite's wall time is then close to its total time divided by the
//! workers). Kept in `<target>/xtask/test-times.tsv`, one `KEY\tMILLISECONDS`
//! line per test; a missing or unreadable file only loses the ordering.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Test durations by key (`MODE NAME`).
pub struct Times {
    path: PathBuf,
    millis: BTreeMap<String, u64>,
}

impl Times {
    /// Loads the durations kept in `path` (none if it cannot be read).
    pub fn load(path: &Path) -> Times {
        let millis = fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .filter_map(|line| {
                let (key, ms) = line.rsplit_once('\t')?;
                Some((key.to_owned(), ms.parse().ok()?))
            })
            .collect();
        Times {
            path: path.to_owned(),
            millis,
        }
    }

    /// The duration recorded for `key`.
    pub fn get(&self, key: &str) -> Option<u64> {
        self.millis.get(key).copied()
    }

    /// Records `key`'s duration.
    pub fn set(&mut self, key: &str, took: Duration) {
        let ms = u64::try_from(took.as_millis()).unwrap_or(u64::MAX);
        self.millis.insert(key.to_owned(), ms);
    }

    /// Writes the durations back. Failing to is not an error (warned once).
    pub fn save(&self) {
        let text: String = self
            .millis
            .iter()
            .map(|(key, ms)| format!("{key}\t{ms}\n"))
            .collect();
        let written = self
            .path
            .parent()
            .map_or(Ok(()), fs::create_dir_all)
            .and_then(|()| fs::write(&self.path, text));
        if let Err(err) = written {
            eprintln!(
                "xtask: warning: cannot write {}: {err}",
                self.path.display()
            );
        }
    }

    /// Sorts `items` slowest first by their recorded durations; those never
    /// timed go first (they may be slow), in their given order.
    pub fn slowest_first<T>(&self, items: &mut [T], key: impl Fn(&T) -> String) {
        items.sort_by_key(|item| std::cmp::Reverse(self.get(&key(item)).unwrap_or(u64::MAX)));
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::Times;

    #[test]
    fn durations_round_trip_and_order_the_queue() {
        let dir = std::env::temp_dir().join(format!("xtask-times-{}", std::process::id()));
        let path = dir.join("t.tsv");
        let mut times = Times::load(&path);
        assert_eq!(times.get("auto a"), None);
        times.set("auto a", Duration::from_millis(50));
        times.set("auto b", Duration::from_millis(900));
        times.save();
        let times = Times::load(&path);
        assert_eq!(times.get("auto b"), Some(900));
        let mut names = vec!["a", "new", "b"];
        times.slowest_first(&mut names, |n| format!("auto {n}"));
        assert_eq!(names, ["new", "b", "a"]);
        let _ = std::fs::remove_dir_all(dir);
    }
}
