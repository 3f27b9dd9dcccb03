//! The VMM's run configuration: every option of a `faultline` run, independent of
//! how it was given (command line, xtask, tests), plus the size syntax they share.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};

/// Smallest guest RAM accepted.
pub const MEM_MIN: u64 = 8 << 20;
/// Largest guest RAM accepted: RAM is one region at guest-physical 0 and must stay
/// below the 32-bit MMIO hole at 3 GiB (the virtio-mmio window, IOAPIC and LAPIC).
pub const MEM_MAX: u64 = 3 << 30;
/// Default guest RAM.
pub const MEM_DEFAULT: u64 = 64 << 20;
/// Default size of a newly created file-system image.
pub const FS_SIZE_DEFAULT: u64 = 16 << 20;
/// Default size of a swap file given without `--swap`.
pub const SWAP_SIZE_DEFAULT: u64 = 16 << 20;
/// Default rate of the `--flamegraph` sampler.
pub const SAMPLE_HZ_DEFAULT: u32 = 1000;
/// Highest sampling rate accepted (each sample stops the vCPU for tens of µs).
pub const SAMPLE_HZ_MAX: u32 = 20_000;
/// Default wall-clock limit of a run.
pub const TIMEOUT_DEFAULT: Duration = Duration::from_secs(120);

/// Which CPU mode the guest kernel runs in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CpuModeChoice {
    /// Detect the host; for now always boots in native mode.
    #[default]
    Auto,
    /// Ordinary x86 supervisor semantics.
    Native,
    /// PVM guest mode (not supported yet).
    Pvm,
}

/// Backing of the swap disk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SwapConfig {
    /// A disk of this many bytes held in host memory.
    Memory(u64),
    /// A disk backed by a host file, created or extended to `size` bytes.
    File {
        /// The host file.
        path: PathBuf,
        /// The disk's size in bytes.
        size: u64,
    },
}

impl SwapConfig {
    /// Capacity of the swap disk in bytes.
    pub fn size(&self) -> u64 {
        match self {
            SwapConfig::Memory(size) => *size,
            SwapConfig::File { size, .. } => *size,
        }
    }
}

/// Everything one run of the VMM needs.
#[derive(Clone, Debug)]
pub struct Config {
    /// The kernel ELF.
    pub kernel: PathBuf,
    /// Every regular file in this directory is copied into the guest file system.
    pub user_dir: Option<PathBuf>,
    /// Bytes of guest RAM.
    pub mem_size: u64,
    /// Cap on the user frame pool in bytes (`None` = the kernel's default).
    pub user_mem: Option<u64>,
    /// Host files copied into the guest file system: (host path, guest name).
    pub puts: Vec<(PathBuf, String)>,
    /// Guest files copied out after the run: (guest name, host path).
    pub gets: Vec<(String, PathBuf)>,
    /// Keep the file system in this image (created if missing); `None` = a temporary image.
    pub disk: Option<PathBuf>,
    /// Size of a newly created file-system image in bytes.
    pub fs_size: u64,
    /// Check the file-system image before boot (always, except for the
    /// hidden test switch `--no-disk-check`, which hands a `--disk` image to
    /// the kernel as it is, to test the kernel's own checks).
    pub check_disk: bool,
    /// The swap disk, if any.
    pub swap: Option<SwapConfig>,
    /// Wall-clock limit (`None` = unlimited).
    pub timeout: Option<Duration>,
    /// Print exit statistics to stderr after the run.
    pub stats: bool,
    /// Requested CPU mode.
    pub cpu_mode: CpuModeChoice,
    /// Suppress the start-up line.
    pub quiet: bool,
    /// Print the fault profile (per fault kind and stage, VM exits) after the run.
    pub profile: bool,
    /// Write the recorded faults and paging spans as a Chrome trace here.
    pub trace: Option<PathBuf>,
    /// Sample the guest's stacks and write a flamegraph SVG here.
    pub flamegraph: Option<PathBuf>,
    /// Samples per second of the flamegraph sampler.
    pub sample_hz: u32,
    /// Serve gdb on 127.0.0.1 at this port, the VM stopped until it connects.
    pub gdb: Option<u16>,
    /// The initial command line (program name and arguments).
    pub cmdline: String,
}

impl Config {
    /// A configuration with every option at its default.
    pub fn new(kernel: impl Into<PathBuf>, cmdline: impl Into<String>) -> Config {
        Config {
            kernel: kernel.into(),
            user_dir: None,
            mem_size: MEM_DEFAULT,
            user_mem: None,
            puts: Vec::new(),
            gets: Vec::new(),
            disk: None,
            fs_size: FS_SIZE_DEFAULT,
            check_disk: true,
            swap: None,
            timeout: Some(TIMEOUT_DEFAULT),
            stats: false,
            cpu_mode: CpuModeChoice::Auto,
            quiet: false,
            profile: false,
            trace: None,
            flamegraph: None,
            sample_hz: SAMPLE_HZ_DEFAULT,
            gdb: None,
            cmdline: cmdline.into(),
        }
    }

    /// Checks the values that do not depend on the host (sizes, command line).
    pub fn validate(&self) -> Result<()> {
        if self.mem_size < MEM_MIN || self.mem_size > MEM_MAX {
            bail!(
                "--mem {}: guest RAM must be between 8M and 3G",
                format_size(self.mem_size)
            );
        }
        if !self.mem_size.is_multiple_of(abi::layout::PAGE_SIZE) {
            bail!("--mem {}: not a multiple of 4K", self.mem_size);
        }
        if let Some(user_mem) = self.user_mem
            && (user_mem < abi::layout::PAGE_SIZE || user_mem > self.mem_size)
        {
            bail!(
                "--user-mem {}: must be between 4K and the guest RAM ({})",
                format_size(user_mem),
                format_size(self.mem_size)
            );
        }
        let min_fs = 64 << 10;
        if self.fs_size < min_fs || !self.fs_size.is_multiple_of(abi::fs::SECTOR as u64) {
            bail!(
                "--fs-size {}: must be a multiple of 512 bytes and at least 64K",
                self.fs_size
            );
        }
        if self.fs_size > u64::from(u32::MAX) * abi::fs::SECTOR as u64 {
            bail!("--fs-size {}: too large", format_size(self.fs_size));
        }
        if let Some(swap) = &self.swap {
            let size = swap.size();
            if size == 0 || size % abi::layout::PAGE_SIZE != 0 {
                bail!("--swap {size}: must be a positive multiple of 4K");
            }
        }
        if !self.check_disk && self.disk.is_none() {
            bail!("--no-disk-check needs --disk");
        }
        if let Some(path) = &self.trace {
            check_output("--trace", path)?;
        }
        if let Some(path) = &self.flamegraph {
            check_output("--flamegraph", path)?;
        }
        for (name, host) in &self.gets {
            check_output(&format!("--get {name}"), host)?;
        }
        if self.sample_hz == 0 || self.sample_hz > SAMPLE_HZ_MAX {
            bail!(
                "--sample-hz {}: must be between 1 and {SAMPLE_HZ_MAX}",
                self.sample_hz
            );
        }
        if self.cmdline.trim_matches(' ').is_empty() {
            bail!("no program given (usage: faultline [OPTIONS] -- PROGRAM [ARGS...])");
        }
        if self.cmdline.len() > abi::syscall::CMDLINE_MAX {
            bail!(
                "command line is {} bytes, longer than the limit of {}",
                self.cmdline.len(),
                abi::syscall::CMDLINE_MAX
            );
        }
        if self.cmdline.bytes().any(|b| b == 0) {
            bail!("command line contains a NUL byte");
        }
        Ok(())
    }

    /// Whether the kernel should record faults (any profiling output asked for).
    pub fn profiling(&self) -> bool {
        self.profile || self.trace.is_some() || self.flamegraph.is_some()
    }

    /// The program name: the first word of the command line.
    pub fn program(&self) -> &str {
        self.cmdline
            .split(' ')
            .find(|w| !w.is_empty())
            .unwrap_or("")
    }
}

/// Parses a size: `123` (bytes), `64K`, `64M`, `1G` (K/M/G = 1024^n, case-insensitive,
/// an optional trailing `B`/`iB` is accepted).
pub fn parse_size(text: &str) -> Result<u64> {
    let t = text.trim();
    let t = t
        .strip_suffix("iB")
        .or_else(|| t.strip_suffix("ib"))
        .unwrap_or(t);
    let (digits, shift) = match t.char_indices().last() {
        Some((i, c)) if c.eq_ignore_ascii_case(&'k') => (&t[..i], 10),
        Some((i, c)) if c.eq_ignore_ascii_case(&'m') => (&t[..i], 20),
        Some((i, c)) if c.eq_ignore_ascii_case(&'g') => (&t[..i], 30),
        Some((i, c)) if c.eq_ignore_ascii_case(&'b') && i > 0 => {
            return parse_size(&t[..i]).with_context(|| format!("bad size `{text}`"));
        }
        _ => (t, 0),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        bail!("bad size `{text}` (expected e.g. 4096, 64K, 64M or 1G)");
    }
    let n: u64 = digits
        .parse()
        .with_context(|| format!("bad size `{text}`"))?;
    n.checked_mul(1u64 << shift)
        .with_context(|| format!("size `{text}` is too large"))
}

/// Formats a byte count with the largest exact unit (`64M`, `1536K`, `100`).
pub fn format_size(bytes: u64) -> String {
    for (shift, unit) in [(30, "G"), (20, "M"), (10, "K")] {
        if bytes != 0 && bytes.is_multiple_of(1u64 << shift) {
            return format!("{}{unit}", bytes >> shift);
        }
    }
    bytes.to_string()
}

/// Checks, before the run, that output file `path` of option `opt` can be
/// created: its directory exists and it is not itself a directory. Errors
/// name the option and the path.
fn check_output(opt: &str, path: &Path) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        bail!(
            "{opt}: {}: directory {} does not exist",
            path.display(),
            dir.display()
        );
    }
    if path.is_dir() {
        bail!("{opt}: {} is a directory", path.display());
    }
    Ok(())
}

/// Parses a time in seconds: `60`, `0.5`, `2.25` (decimal, at most
/// millisecond precision: `0.0005` is refused rather than rounded to 0).
/// Fails on anything else (signs, exponents, units, more than a year).
pub fn parse_secs(text: &str) -> Result<Duration> {
    let bad = || anyhow::anyhow!("bad time `{text}` (expected seconds, e.g. 60 or 0.5)");
    let t = text.trim();
    let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(frac) || (t.contains('.') && frac.is_empty()) {
        return Err(bad());
    }
    let secs: u64 = whole.parse().map_err(|_| bad())?;
    if secs > 366 * 24 * 3600 {
        bail!("time `{text}` is too long (at most a year)");
    }
    let millis_text = frac.trim_end_matches('0');
    if millis_text.len() > 3 {
        bail!("time `{text}` is finer than a millisecond");
    }
    let millis: u64 = format!("{millis_text:0<3}").parse().map_err(|_| bad())?;
    Ok(Duration::from_secs(secs) + Duration::from_millis(millis))
}

/// Formats a time as [`parse_secs`] reads it (`60`, `0.5`, `2.25`).
pub fn format_secs(time: Duration) -> String {
    let millis = time.subsec_millis();
    if millis == 0 {
        return time.as_secs().to_string();
    }
    let frac = format!("{millis:03}");
    format!("{}.{}", time.as_secs(), frac.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_paths_are_checked_before_the_run() {
        let mut c = Config::new(PathBuf::from("/k"), "p".to_string());
        c.trace = Some("/nonexistent-dir-for-faultline/t.json".into());
        let e = format!("{:#}", c.validate().unwrap_err());
        assert!(
            e.starts_with("--trace: ") && e.contains("does not exist"),
            "{e}"
        );
        c.trace = Some("t.json".into());
        c.flamegraph = Some(std::env::temp_dir());
        let e = format!("{:#}", c.validate().unwrap_err());
        assert!(e.contains("is a directory"), "{e}");
        c.flamegraph = None;
        c.gets = vec![("f".into(), "/nonexistent-dir-for-faultline/f".into())];
        let e = format!("{:#}", c.validate().unwrap_err());
        assert!(e.starts_with("--get f: "), "{e}");
        c.gets = vec![("f".into(), std::env::temp_dir().join("f"))];
        c.validate().unwrap();
    }

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_size("123").unwrap(), 123);
        assert_eq!(parse_size("64K").unwrap(), 64 << 10);
        assert_eq!(parse_size("64m").unwrap(), 64 << 20);
        assert_eq!(parse_size("1G").unwrap(), 1 << 30);
        assert_eq!(parse_size("16MiB").unwrap(), 16 << 20);
        assert_eq!(parse_size("2MB").unwrap(), 2 << 20);
        for bad in [
            "",
            "M",
            "-1",
            "1.5M",
            "12X",
            "99999999999999999999",
            "17179869184G",
        ] {
            assert!(parse_size(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn seconds_parse_and_format() {
        let ms = Duration::from_millis;
        for (text, want) in [
            ("60", ms(60_000)),
            ("0.5", ms(500)),
            ("2.25", ms(2250)),
            ("0", ms(0)),
            ("1.500", ms(1500)),
        ] {
            assert_eq!(parse_secs(text).unwrap(), want, "{text}");
        }
        for bad in [
            "",
            ".5",
            "5.",
            "-1",
            "1e3",
            "1s",
            "0.0005",
            "99999999999",
            "1.2.3",
            "inf",
        ] {
            assert!(parse_secs(bad).is_err(), "{bad}");
        }
        for text in ["60", "0.5", "2.25", "0.001"] {
            assert_eq!(format_secs(parse_secs(text).unwrap()), text);
        }
    }

    #[test]
    fn sizes_format() {
        assert_eq!(format_size(64 << 20), "64M");
        assert_eq!(format_size(1536 << 10), "1536K");
        assert_eq!(format_size(100), "100");
        assert_eq!(format_size(0), "0");
    }

    #[test]
    fn validation_catches_bad_values() {
        let ok = Config::new("k", "echo hi");
        ok.validate().unwrap();
        assert_eq!(ok.program(), "echo");
        let mut c = ok.clone();
        c.mem_size = 4 << 20;
        assert!(c.validate().is_err());
        c.mem_size = 4 << 30;
        assert!(c.validate().is_err());
        let mut c = ok.clone();
        c.cmdline = "x".repeat(abi::syscall::CMDLINE_MAX + 1);
        assert!(c.validate().is_err());
        c.cmdline = "x".repeat(abi::syscall::CMDLINE_MAX);
        c.validate().unwrap();
        let mut c = ok.clone();
        c.swap = Some(SwapConfig::Memory(1000));
        assert!(c.validate().is_err());
        let mut c = ok.clone();
        assert!(!c.profiling());
        c.sample_hz = 0;
        assert!(c.validate().is_err());
        c.sample_hz = SAMPLE_HZ_MAX + 1;
        assert!(c.validate().is_err());
        c.sample_hz = SAMPLE_HZ_MAX;
        c.flamegraph = Some("f.svg".into());
        c.validate().unwrap();
        assert!(c.profiling());
        let mut c = ok.clone();
        c.user_mem = Some(1 << 30);
        assert!(c.validate().is_err());
        let mut c = ok;
        c.cmdline = "   ".into();
        assert!(c.validate().is_err());
    }
}
