//! Where the workspace is and where every build output goes.

use std::env;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// The target triple the kernel and the user programs are built for.
pub const GUEST_TARGET: &str = "x86_64-unknown-none";

/// The target triple the VMM is built for, named with `--target` so that its
/// static-linking flag reaches the VMM and not the build's proc-macros
/// (which cannot be linked statically): the binary lands in
/// `<target>/x86_64-unknown-linux-gnu/release/`.
pub const HOST_TARGET: &str = "x86_64-unknown-linux-gnu";

/// The workspace root and the paths of the build outputs under it.
pub struct Paths {
    /// The workspace root (the parent of the xtask crate).
    pub root: PathBuf,
    /// The host target directory: `$CARGO_TARGET_DIR` if set, else `<root>/target`.
    pub target: PathBuf,
}

impl Paths {
    /// Finds the workspace from the xtask crate's manifest directory.
    pub fn locate() -> Result<Paths> {
        let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
        let root = manifest_dir
            .parent()
            .with_context(|| format!("{} has no parent directory", manifest_dir.display()))?
            .to_path_buf();
        let target = match env::var_os("CARGO_TARGET_DIR") {
            Some(dir) if !dir.is_empty() => {
                let dir = PathBuf::from(dir);
                if dir.is_absolute() {
                    dir
                } else {
                    env::current_dir()
                        .context("cannot read the current directory")?
                        .join(dir)
                }
            }
            _ => root.join("target"),
        };
        Ok(Paths { root, target })
    }

    /// The kernel's manifest (a package outside the host workspace).
    /// The floor guest's manifest (a package outside the host workspace).
    pub fn floor_guest_manifest(&self) -> PathBuf {
        self.root.join("vmm").join("floor-guest").join("Cargo.toml")
    }

    pub fn kernel_manifest(&self) -> PathBuf {
        self.root.join("kernel").join("Cargo.toml")
    }

    /// The user programs' manifest (a package outside the host workspace).
    pub fn user_manifest(&self) -> PathBuf {
        self.root.join("user").join("Cargo.toml")
    }

    /// Target directory of the kernel build.
    pub fn kernel_target(&self) -> PathBuf {
        self.target.join("kernel")
    }

    /// The kernel ELF.
    pub fn kernel_elf(&self) -> PathBuf {
        self.kernel_target()
            .join(GUEST_TARGET)
            .join("release")
            .join("kernel")
    }

    /// The floor guest ELF (`vmm/floor-guest`), built with the kernel.
    pub fn floor_guest_elf(&self) -> PathBuf {
        self.kernel_target()
            .join(GUEST_TARGET)
            .join("release")
            .join("floor-guest")
    }

    /// Target directory of the user-program build.
    pub fn user_target(&self) -> PathBuf {
        self.target.join("user")
    }

    /// Directory holding every built user program, Rust and C.
    pub fn guest_bin(&self) -> PathBuf {
        self.target.join("guest").join("bin")
    }

    /// The C user programs' sources.
    pub fn c_sources(&self) -> PathBuf {
        self.root.join("user").join("c")
    }

    /// Data files the guest tests put into the guest file system.
    pub fn data_dir(&self) -> PathBuf {
        self.root.join("user").join("data")
    }

    /// The VMM's cache of file-system images (`FAULTLINE_CACHE_DIR` for every
    /// `faultline` that xtask starts, directly or through cargo).
    pub fn image_cache(&self) -> PathBuf {
        self.target.join("faultline-cache")
    }

    /// The `faultline` VMM binary.
    pub fn vmm_bin(&self) -> PathBuf {
        self.target
            .join(HOST_TARGET)
            .join("release")
            .join("faultline")
    }
}
