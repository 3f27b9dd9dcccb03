//! The `faultline` command line (clap), turned into a [`Config`].

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Parser, ValueEnum};

use crate::config::{self, Config, CpuModeChoice, SwapConfig};

/// `--cpu-mode` values.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum CpuModeArg {
    /// The PVM guest mode on a PVM host, else the native mode.
    Auto,
    /// Ordinary x86 supervisor mode.
    Native,
    /// The PVM guest mode (only on a PVM host).
    Pvm,
}

/// Runs a user program on the faultline kernel in a KVM guest.
#[derive(Debug, Parser)]
#[command(name = "faultline", version, about)]
#[command(override_usage = "faultline [OPTIONS] -- PROGRAM [ARGS...]")]
pub struct Cli {
    /// Kernel ELF [default: $FAULTLINE_KERNEL]
    #[arg(long, value_name = "PATH", env = "FAULTLINE_KERNEL")]
    pub kernel: Option<PathBuf>,
    /// Copy every regular file in DIR into the guest file system [default: $FAULTLINE_USER_DIR]
    #[arg(long, value_name = "DIR", env = "FAULTLINE_USER_DIR")]
    pub user_dir: Option<PathBuf>,
    /// Guest RAM (e.g. 64M, 1G; between 8M and 3G)
    #[arg(long, value_name = "SIZE", default_value = "64M")]
    pub mem: String,
    /// Cap on the user frame pool
    #[arg(long, value_name = "SIZE")]
    pub user_mem: Option<String>,
    /// Copy a host file into the guest file system (NAME defaults to the file name)
    #[arg(long, value_name = "HOST[:NAME]")]
    pub put: Vec<String>,
    /// Copy a guest file out after the run (HOST defaults to NAME in the current directory)
    #[arg(long, value_name = "NAME[:HOST]")]
    pub get: Vec<String>,
    /// Use (and create if missing) this file-system image and keep it
    #[arg(long, value_name = "IMAGE")]
    pub disk: Option<PathBuf>,
    /// Size of a newly created file-system image
    #[arg(long, value_name = "SIZE", default_value = "16M")]
    pub fs_size: String,
    /// Test switch, hidden from `--help`: hand the `--disk` image to the
    /// kernel as it is (no check, nothing copied in), so that a test can see
    /// the kernel refuse a bad image.
    #[arg(long, hide = true)]
    pub no_disk_check: bool,
    /// A swap disk of SIZE held in host memory (with --swap-file: the file's size)
    #[arg(long, value_name = "SIZE")]
    pub swap: Option<String>,
    /// A swap disk backed by this host file (16M unless --swap gives the size)
    #[arg(long, value_name = "PATH")]
    pub swap_file: Option<PathBuf>,
    /// Kill the VM after SECS seconds of wall time, e.g. 60 or 0.5 (0 = never) [default: 120; with --gdb: 0]
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<String>,
    /// Print VM exit counts and guest/VMM time to stderr after the run
    #[arg(long)]
    pub stats: bool,
    /// CPU mode of the guest kernel
    #[arg(long, value_enum, default_value = "auto")]
    pub cpu_mode: CpuModeArg,
    /// Do not print the start-up line
    #[arg(long, short)]
    pub quiet: bool,
    /// Print a fault profile to stderr after the run: latency per fault kind and
    /// stage, eviction and paging I/O, processes, VM exits with their host time
    #[arg(long)]
    pub profile: bool,
    /// Write the recorded faults, evictions and paging I/O as a Chrome trace
    /// (opens in Perfetto)
    #[arg(long, value_name = "FILE.json")]
    pub trace: Option<PathBuf>,
    /// Sample the guest's kernel and user stacks and write a flamegraph (SVG,
    /// or collapsed stacks as text if FILE ends in .folded)
    #[arg(long, value_name = "FILE.svg")]
    pub flamegraph: Option<PathBuf>,
    /// Serve gdb on 127.0.0.1:PORT; the VM waits for it before the kernel's first instruction
    #[arg(long, value_name = "PORT")]
    pub gdb: Option<u16>,
    /// Print facts about this host's KVM as key=value lines (is it PVM, what
    /// `--cpu-mode auto` picks, whether the native mode is emulated) and exit
    #[arg(long, exclusive = true)]
    pub host_info: bool,
    /// Samples per second for --flamegraph [default: 1000]
    #[arg(long, value_name = "HZ")]
    pub sample_hz: Option<u32>,
    /// The program to run and its arguments
    #[arg(value_name = "PROGRAM", trailing_var_arg = true, required = true, num_args = 1..)]
    pub command: Vec<String>,
}

/// What the command line asks for.
pub enum Parsed {
    /// Run the VM.
    Run(Box<Config>),
    /// `--help` or `--version`: print this text to stdout, exit 0.
    Info(String),
    /// `--host-info`: probe the host and print its facts (`host_info`).
    HostInfo,
    /// A usage error: print this text to stderr, exit with the VMM-error status.
    Usage(String),
}

/// Parses `args` (including the program name).
pub fn parse<I, T>(args: I) -> Parsed
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    // `--host-info` alone, before clap: clap would count FAULTLINE_KERNEL and
    // FAULTLINE_USER_DIR from the environment against its `exclusive`.
    if args.len() == 2 && args[1] == "--host-info" {
        return Parsed::HostInfo;
    }
    match Cli::try_parse_from(args) {
        Ok(cli) if cli.host_info => Parsed::HostInfo,
        Ok(cli) => match cli.into_config() {
            Ok(config) => Parsed::Run(Box::new(config)),
            Err(e) => Parsed::Usage(format!("faultline: error: {e:#}")),
        },
        Err(e) => {
            use clap::error::ErrorKind;
            let text = e.render().to_string();
            match e.kind() {
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => Parsed::Info(text),
                // clap says `error: ...`; every faultline error says whose it is.
                _ => Parsed::Usage(format!(
                    "faultline: {}",
                    text.strip_prefix("error: ")
                        .map_or(text.clone(), |rest| format!("error: {rest}"))
                )),
            }
        }
    }
}

impl Cli {
    /// Checks and converts the options.
    pub fn into_config(self) -> Result<Config> {
        let kernel = self.kernel.context(
            "no kernel given: pass --kernel PATH or set FAULTLINE_KERNEL (`cargo xtask run` does this)",
        )?;
        let cmdline = self.command.join(" ");
        let mut c = Config::new(kernel, cmdline);
        c.user_dir = self.user_dir;
        c.mem_size = config::parse_size(&self.mem).context("--mem")?;
        c.user_mem = self
            .user_mem
            .as_deref()
            .map(config::parse_size)
            .transpose()
            .context("--user-mem")?;
        c.puts = self
            .put
            .iter()
            .map(|s| parse_put(s))
            .collect::<Result<_>>()?;
        c.gets = self
            .get
            .iter()
            .map(|s| parse_get(s))
            .collect::<Result<_>>()?;
        c.disk = self.disk;
        c.fs_size = config::parse_size(&self.fs_size).context("--fs-size")?;
        c.check_disk = !self.no_disk_check;
        let swap_size = self
            .swap
            .as_deref()
            .map(config::parse_size)
            .transpose()
            .context("--swap")?;
        c.swap = match (swap_size, self.swap_file) {
            (None, None) => None,
            (Some(size), None) => Some(SwapConfig::Memory(size)),
            (size, Some(path)) => Some(SwapConfig::File {
                path,
                size: size.unwrap_or(config::SWAP_SIZE_DEFAULT),
            }),
        };
        let timeout = match self.timeout.as_deref() {
            Some(text) => config::parse_secs(text).context("--timeout")?,
            None if self.gdb.is_some() => Duration::ZERO,
            None => config::TIMEOUT_DEFAULT,
        };
        c.timeout = (!timeout.is_zero()).then_some(timeout);
        c.gdb = self.gdb;
        c.stats = self.stats;
        c.cpu_mode = match self.cpu_mode {
            CpuModeArg::Auto => CpuModeChoice::Auto,
            CpuModeArg::Native => CpuModeChoice::Native,
            CpuModeArg::Pvm => CpuModeChoice::Pvm,
        };
        c.quiet = self.quiet;
        c.profile = self.profile;
        c.trace = self.trace;
        c.flamegraph = self.flamegraph;
        if let Some(hz) = self.sample_hz {
            if c.flamegraph.is_none() {
                bail!("--sample-hz sets the sampling rate of --flamegraph, which is not given");
            }
            c.sample_hz = hz;
        }
        c.validate()?;
        Ok(c)
    }
}

/// `HOST[:NAME]`: split at the last `:` unless what follows it looks like a path.
fn parse_put(spec: &str) -> Result<(PathBuf, String)> {
    let (host, name) = match spec.rsplit_once(':') {
        Some((host, name)) if !host.is_empty() && !name.contains('/') => {
            (host.to_string(), name.to_string())
        }
        _ => {
            let name = Path::new(spec)
                .file_name()
                .and_then(|n| n.to_str())
                .with_context(|| format!("--put {spec}: no file name"))?;
            (spec.to_string(), name.to_string())
        }
    };
    check_name(&name).with_context(|| format!("--put {spec}"))?;
    Ok((PathBuf::from(host), name))
}

/// `NAME[:HOST]`: split at the first `:`.
fn parse_get(spec: &str) -> Result<(String, PathBuf)> {
    let (name, host) = match spec.split_once(':') {
        Some((name, host)) if !host.is_empty() => (name.to_string(), PathBuf::from(host)),
        Some((name, _)) => (name.to_string(), PathBuf::from(name)),
        None => (spec.to_string(), PathBuf::from(spec)),
    };
    check_name(&name).with_context(|| format!("--get {spec}"))?;
    Ok((name, host))
}

/// Checks a guest file name against the file system's rules.
fn check_name(name: &str) -> Result<()> {
    match abi::fs::validate_name(name.as_bytes()) {
        Ok(()) => Ok(()),
        Err(abi::fs::NameError::Empty) => bail!("empty guest file name"),
        Err(abi::fs::NameError::TooLong) => bail!(
            "guest file name `{name}` is longer than {} bytes",
            abi::syscall::NAME_MAX
        ),
        Err(abi::fs::NameError::BadChar) => {
            bail!("guest file name `{name}` contains a space, '/' or NUL")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(args: &[&str]) -> Result<Config, String> {
        let mut all = vec!["faultline", "--kernel", "/k"];
        all.extend_from_slice(args);
        match parse(all) {
            Parsed::Run(c) => Ok(*c),
            Parsed::Info(t) | Parsed::Usage(t) => Err(t),
            Parsed::HostInfo => Err("--host-info".into()),
        }
    }

    #[test]
    fn command_line_is_joined_with_single_spaces() {
        let c = config(&["--", "echo", "a", "b"]).unwrap();
        assert_eq!(c.cmdline, "echo a b");
        let c = config(&["--", "args-dbl-space two  spaces!"]).unwrap();
        assert_eq!(c.cmdline, "args-dbl-space two  spaces!");
        let c = config(&["--mem", "32M", "--stats", "echo", "--mem"]).unwrap();
        assert_eq!(c.cmdline, "echo --mem");
        assert_eq!(c.mem_size, 32 << 20);
        assert!(c.stats);
    }

    #[test]
    fn options_convert() {
        let c = config(&[
            "--user-mem",
            "1M",
            "--put",
            "/tmp/x/data.bin",
            "--put",
            "/a/b:c",
            "--get",
            "out",
            "--get",
            "o2:/tmp/o2",
            "--swap",
            "8M",
            "--timeout",
            "0",
            "--",
            "p",
        ])
        .unwrap();
        assert_eq!(c.user_mem, Some(1 << 20));
        assert_eq!(
            c.puts,
            vec![
                (PathBuf::from("/tmp/x/data.bin"), "data.bin".to_string()),
                (PathBuf::from("/a/b"), "c".to_string())
            ]
        );
        assert_eq!(
            c.gets,
            vec![
                ("out".to_string(), PathBuf::from("out")),
                ("o2".to_string(), PathBuf::from("/tmp/o2"))
            ]
        );
        assert_eq!(c.swap, Some(SwapConfig::Memory(8 << 20)));
        assert_eq!(c.timeout, None);
        assert!(!c.profiling());
        let c = config(&["--", "p"]).unwrap();
        assert_eq!(c.timeout, Some(config::TIMEOUT_DEFAULT));
        assert_eq!(c.gdb, None);
        let c = config(&["--gdb", "1234", "--", "p"]).unwrap();
        assert_eq!((c.gdb, c.timeout), (Some(1234), None));
        let c = config(&["--gdb", "1234", "--timeout", "9", "--", "p"]).unwrap();
        assert_eq!(c.timeout, Some(Duration::from_secs(9)));
        let c = config(&["--timeout", "0.25", "--", "p"]).unwrap();
        assert_eq!(c.timeout, Some(Duration::from_millis(250)));
        assert!(config(&["--timeout", "-1", "--", "p"]).is_err());
        let c = config(&[
            "--profile",
            "--trace",
            "t.json",
            "--flamegraph",
            "f.svg",
            "--sample-hz",
            "250",
            "--",
            "p",
        ])
        .unwrap();
        assert!(c.profile);
        assert_eq!(c.trace, Some(PathBuf::from("t.json")));
        assert_eq!(c.flamegraph, Some(PathBuf::from("f.svg")));
        assert_eq!(c.sample_hz, 250);
        assert!(config(&["--flamegraph", "f.svg", "--sample-hz", "0", "--", "p"]).is_err());
        let e = config(&["--sample-hz", "250", "--", "p"]).unwrap_err();
        assert!(e.contains("--flamegraph"), "{e}");
        let c = config(&["--swap-file", "/tmp/s", "--", "p"]).unwrap();
        assert_eq!(
            c.swap,
            Some(SwapConfig::File {
                path: "/tmp/s".into(),
                size: 16 << 20
            })
        );
    }

    #[test]
    fn bad_input_is_a_usage_error() {
        assert!(config(&["--mem", "1G1", "--", "p"]).is_err());
        assert!(config(&["--mem", "4M", "--", "p"]).is_err());
        assert!(config(&["--get", "much-too-long-name", "--", "p"]).is_err());
        let e = config(&["--bogus", "--", "p"]).unwrap_err();
        assert!(
            e.starts_with("faultline: error: unexpected argument"),
            "{e}"
        );
        let e = config(&["--mem"]).unwrap_err();
        assert!(e.starts_with("faultline: error: "), "{e}");
        assert!(config(&[]).is_err());
        assert!(matches!(parse(["faultline", "--help"]), Parsed::Info(_)));
    }

    #[test]
    fn host_info_stands_alone() {
        assert!(matches!(
            parse(["faultline", "--host-info"]),
            Parsed::HostInfo
        ));
        assert!(matches!(
            parse(["faultline", "--host-info", "--", "echo"]),
            Parsed::Usage(_)
        ));
    }
}
