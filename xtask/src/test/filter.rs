//! The FILTERs of `cargo xtask test [FILTER...]` and `cargo xtask run --test
//! NAME`: which tests a name selects.
//!
//! Test names are libtest's: `args_single`, `vm::page_linear`. Guest programs
//! are named with dashes (`args-single`, `page-linear`) and each Pintos-style
//! test is named after its program with underscores, so a filter is matched
//! with every `-` read as `_`: `args-single`, `args_single` and
//! `vm::page_linear` all select their test. Like libtest's own filters, a
//! FILTER selects every test whose name contains it (`args` selects all the
//! `args_*` tests, `vm::` the whole vm group), and several FILTERs select
//! every test that any of them selects.

/// The FILTERs of one command line; dashes already turned into underscores.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NameFilter {
    /// Each FILTER as the user typed it (tried too: see [`NameFilter::matches`]).
    raw: Vec<String>,
    /// Each FILTER with its dashes read as underscores.
    normalized: Vec<String>,
}

impl NameFilter {
    /// The filter of `raw`, or `None` when it is empty (everything runs).
    pub fn new(raw: &[String]) -> Option<NameFilter> {
        (!raw.is_empty()).then(|| NameFilter {
            raw: raw.to_vec(),
            normalized: raw.iter().map(|f| f.replace('-', "_")).collect(),
        })
    }

    /// Whether `name` (a test name, or a doc command's name) is selected by
    /// one of the FILTERs. Doc commands are named after their file
    /// (`docs/PROFILING.md:14`), so the raw forms are tried as well.
    pub fn matches(&self, name: &str) -> bool {
        self.normalized
            .iter()
            .chain(&self.raw)
            .any(|f| name.contains(f.as_str()))
    }

    /// The filter arguments of a libtest command line (libtest runs a test
    /// if any of them is part of its name): each FILTER, and its raw form
    /// where that differs.
    pub fn libtest_args(&self) -> impl Iterator<Item = &str> {
        self.normalized
            .iter()
            .chain(self.raw.iter().filter(|r| !self.normalized.contains(r)))
            .map(String::as_str)
    }

    /// The FILTERs as typed, for messages: `` `a` `` or `` `a` or `b` ``.
    pub fn describe(&self) -> String {
        let quoted: Vec<String> = self.raw.iter().map(|f| format!("`{f}`")).collect();
        quoted.join(" or ")
    }
}

/// The one test among `names` that `wanted` names exactly: the full name,
/// else the name without its `module::` prefix, with dashes read as
/// underscores. Errors list the candidates when there are none or several.
pub fn resolve_one<'a>(names: &[&'a str], wanted: &str) -> Result<&'a str, String> {
    let want = wanted.replace('-', "_");
    if let Some(exact) = names.iter().find(|n| **n == want) {
        return Ok(exact);
    }
    let by_last: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| n.rsplit("::").next() == Some(want.as_str()))
        .collect();
    match by_last.as_slice() {
        [one] => Ok(one),
        [] => {
            let close: Vec<&str> = names
                .iter()
                .copied()
                .filter(|n| n.contains(&want))
                .take(10)
                .collect();
            if close.is_empty() {
                Err(format!("no guest test is named `{wanted}`"))
            } else {
                Err(format!(
                    "no guest test is named `{wanted}`; names containing it: {}",
                    close.join(", ")
                ))
            }
        }
        many => Err(format!(
            "`{wanted}` names several guest tests: {}",
            many.join(", ")
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::{NameFilter, resolve_one};

    #[test]
    fn program_and_test_names_select_the_same_test() {
        for filter in [
            "args-single",
            "args_single",
            "page-linear",
            "vm::page_linear",
        ] {
            let f = one(filter);
            let hits: Vec<_> = ["args_single", "args_multiple", "vm::page_linear"]
                .into_iter()
                .filter(|n| f.matches(n))
                .collect();
            assert_eq!(hits.len(), 1, "{filter}: {hits:?}");
        }
        assert!(one("args").matches("args_many"));
        assert!(one("PROFILING.md").matches("docs/PROFILING.md:14"));
        assert!(!one("no-such-test").matches("args_single"));
    }

    fn one(filter: &str) -> NameFilter {
        NameFilter::new(&[filter.to_owned()]).unwrap()
    }

    #[test]
    fn several_filters_select_what_any_of_them_selects() {
        assert_eq!(NameFilter::new(&[]), None);
        let f = NameFilter::new(&["page-linear".into(), "halt".into()]).unwrap();
        let names = ["vm::page_linear", "tools::halt", "args_single"];
        let hits: Vec<_> = names.into_iter().filter(|n| f.matches(n)).collect();
        assert_eq!(hits, ["vm::page_linear", "tools::halt"]);
        assert_eq!(
            f.libtest_args().collect::<Vec<_>>(),
            ["page_linear", "halt", "page-linear"]
        );
        assert_eq!(f.describe(), "`page-linear` or `halt`");
    }

    #[test]
    fn one_test_is_resolved_by_full_or_short_name() {
        let names = ["args_single", "vm::page_linear", "halt", "tools::halt"];
        assert_eq!(
            resolve_one(&names, "vm::page_linear"),
            Ok("vm::page_linear")
        );
        assert_eq!(resolve_one(&names, "page-linear"), Ok("vm::page_linear"));
        assert_eq!(resolve_one(&names, "args-single"), Ok("args_single"));
        // An exact full name wins over a short one.
        assert_eq!(resolve_one(&names, "halt"), Ok("halt"));
        assert!(
            resolve_one(&names, "page")
                .unwrap_err()
                .contains("vm::page_linear")
        );
        assert!(resolve_one(&names, "nothing").is_err());
        let twice = ["a::x", "b::x"];
        assert!(resolve_one(&twice, "x").unwrap_err().contains("several"));
    }
}
