//! Where the built guest is: the VMM, the kernel, the user programs and the
//! test data.
//!
//! `cargo xtask test` passes the paths in the environment (`FAULTLINE_BIN`,
//! `FAULTLINE_KERNEL`, `FAULTLINE_USER_DIR`, `FAULTLINE_DATA_DIR`). Without
//! them the paths default to where `cargo xtask build` puts its outputs, found
//! from the test executable's own location (`<target>/debug/deps/NAME`), so
//! `cargo test -p faultline-tests` and `cargo nextest run -p faultline-tests`
//! work after `cargo xtask build` with no variable set.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Where `cargo xtask build` puts the VMM under the target directory (it
/// builds it with `--target`, see `xtask/src/build.rs`).
const VMM: &str = "x86_64-unknown-linux-gnu/release/faultline";

/// The target directory holding the build outputs: the nearest ancestor of
/// the running test executable that contains the VMM.
fn target_dir() -> Option<&'static Path> {
    static DIR: OnceLock<Option<PathBuf>> = OnceLock::new();
    DIR.get_or_init(|| {
        let exe = std::env::current_exe().ok()?;
        exe.ancestors()
            .skip(1)
            .find(|dir| dir.join(VMM).is_file())
            .map(Path::to_path_buf)
    })
    .as_deref()
}

/// `$NAME` if set and not empty, else `default` under the target directory.
/// Panics with what to run when neither exists.
fn built(var: &str, default: &[&str]) -> PathBuf {
    if let Some(v) = std::env::var_os(var).filter(|v| !v.is_empty()) {
        return PathBuf::from(v);
    }
    let found = target_dir().map(|dir| default.iter().fold(dir.to_path_buf(), |p, c| p.join(c)));
    match found {
        Some(path) if path.exists() => path,
        _ => panic!(
            "{var} is not set and `cargo xtask build` has not built {}: run the suite with \
             `cargo xtask test` (or `cargo xtask build` first)",
            default.join("/")
        ),
    }
}

/// The `faultline` VMM (`FAULTLINE_BIN`, else
/// `<target>/x86_64-unknown-linux-gnu/release/faultline`).
pub fn vmm_bin() -> PathBuf {
    built("FAULTLINE_BIN", &[VMM])
}

/// The kernel ELF (`FAULTLINE_KERNEL`, else the one `cargo xtask build` made).
pub fn kernel() -> PathBuf {
    built(
        "FAULTLINE_KERNEL",
        &["kernel", "x86_64-unknown-none", "release", "kernel"],
    )
}

/// The floor guest ELF (`FAULTLINE_FLOOR_GUEST`, else the one `cargo xtask
/// build` made beside the kernel).
pub fn floor_guest() -> PathBuf {
    built(
        "FAULTLINE_FLOOR_GUEST",
        &["kernel", "x86_64-unknown-none", "release", "floor-guest"],
    )
}

/// The directory holding the guest programs (`FAULTLINE_USER_DIR`, else
/// `<target>/guest/bin`).
pub fn user_dir() -> PathBuf {
    built("FAULTLINE_USER_DIR", &["guest", "bin"])
}

/// A test data file: from `FAULTLINE_DATA_DIR`, else from `user/data` in the source tree.
pub fn data_file(name: &str) -> PathBuf {
    let dir = match std::env::var_os("FAULTLINE_DATA_DIR") {
        Some(v) if !v.is_empty() => PathBuf::from(v),
        _ => Path::new(env!("CARGO_MANIFEST_DIR")).parent().map_or_else(
            || PathBuf::from("user/data"),
            |root| root.join("user").join("data"),
        ),
    };
    dir.join(name)
}
