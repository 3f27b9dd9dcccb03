//! Counting results: passed, failed and skipped tests summed over every
//! suite, and the libtest `test result:` lines of the host suites.

/// Test counts.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct Tally {
    pub passed: u64,
    pub failed: u64,
    /// Tests that did not run: skipped by the test (guest suite) or ignored
    /// (libtest's `#[ignore]`).
    pub skipped: u64,
}

impl Tally {
    /// Every test counted.
    pub fn total(&self) -> u64 {
        self.passed + self.failed + self.skipped
    }

    /// Adds `other`'s counts.
    pub fn add(&mut self, other: Tally) {
        self.passed += other.passed;
        self.failed += other.failed;
        self.skipped += other.skipped;
    }

    /// The counts added since `earlier` (an earlier copy of this tally).
    pub fn since(&self, earlier: Tally) -> Tally {
        Tally {
            passed: self.passed.saturating_sub(earlier.passed),
            failed: self.failed.saturating_sub(earlier.failed),
            skipped: self.skipped.saturating_sub(earlier.skipped),
        }
    }

    /// The counts of one libtest `test result:` line, if `line` is one.
    pub fn from_result_line(line: &str) -> Option<Tally> {
        let rest = line.trim().strip_prefix("test result: ")?;
        let mut tally = Tally::default();
        let mut found = false;
        for part in rest.split(';') {
            let part = part
                .trim()
                .trim_start_matches("ok.")
                .trim_start_matches("FAILED.");
            let mut words = part.split_whitespace();
            let (Some(count), Some(kind)) = (words.next(), words.next()) else {
                continue;
            };
            let Ok(count) = count.parse::<u64>() else {
                continue;
            };
            match kind {
                "passed" => tally.passed += count,
                "failed" => tally.failed += count,
                "ignored" => tally.skipped += count,
                _ => continue,
            }
            found = true;
        }
        found.then_some(tally)
    }

    /// The closing line CI reads.
    pub fn closing_line(&self) -> String {
        format!(
            "xtask test: {} passed, {} failed, {} skipped",
            self.passed, self.failed, self.skipped
        )
    }
}

#[cfg(test)]
mod tests {
    use super::Tally;

    #[test]
    fn result_lines_are_counted() {
        let ok = Tally::from_result_line(
            "test result: ok. 12 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.01s",
        );
        assert_eq!(
            ok,
            Some(Tally {
                passed: 12,
                failed: 0,
                skipped: 1
            })
        );
        let failed = Tally::from_result_line(
            "test result: FAILED. 3 passed; 2 failed; 0 ignored; 0 measured; 5 filtered out; finished in 1.20s",
        )
        .unwrap();
        let mut sum = ok.unwrap();
        sum.add(failed);
        assert_eq!((sum.passed, sum.failed, sum.skipped), (15, 2, 1));
        assert_eq!(
            sum.closing_line(),
            "xtask test: 15 passed, 2 failed, 1 skipped"
        );
    }

    #[test]
    fn other_lines_are_not_results() {
        assert_eq!(Tally::from_result_line("running 3 tests"), None);
        assert_eq!(
            Tally::from_result_line("test elf::tests::parses ... ok"),
            None
        );
        assert_eq!(Tally::from_result_line("test result passed"), None);
    }
}
