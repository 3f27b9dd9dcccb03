//! `cargo xtask`: build orchestration for faultline.
//!
//! - `build` builds the kernel, the user programs (Rust and C) and the VMM;
//! - `run [OPTIONS] -- PROGRAM [ARGS...]` builds, then boots PROGRAM in a VM;
//!   `run --test NAME` runs one guest test showing its consoles;
//! - `gdb [OPTIONS] -- PROGRAM [ARGS...]` builds, then runs PROGRAM under
//!   `faultline --gdb` with gdb attached (docs/DEBUGGING.md);
//! - `lint` runs `cargo fmt --check` and clippy over the host workspace and
//!   the guest packages;
//! - `bench [--runs N] [--quick] [--no-suite]` builds, then prints the
//!   benchmark table (docs/PERFORMANCE.md);
//! - `test [--cpu-mode auto|native|pvm|both] [-j N] [--no-lint] [FILTER...]`
//!   runs the lint as one test, builds, then runs the host unit tests, the guest test suite (by default twice: in the
//!   mode `auto` picks, and in the native mode) and the docs' commands.
//!
//! Every output lands under the workspace's `target/` directory (or under
//! `$CARGO_TARGET_DIR` when that is set); see [`paths::Paths`].

mod bench;
mod build;
mod cargo;
mod gdb;
mod host_fault;
mod lint;
mod paths;
mod run;
mod run_test;
mod test;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Build orchestration for faultline.
#[derive(Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build the kernel, the user programs and the VMM.
    Build,
    /// Build, then run a program in a VM: `cargo xtask run [OPTIONS] -- PROGRAM [ARGS...]`,
    /// or one guest test: `cargo xtask run --test NAME`.
    ///
    /// OPTIONS are passed unchanged to `faultline` (e.g. `--mem 32M --stats`);
    /// `cargo xtask run --help` lists them. A failed build exits with 252.
    #[command(disable_help_flag = true)]
    Run {
        /// faultline options, then `--`, then the program and its arguments.
        #[arg(
            trailing_var_arg = true,
            allow_hyphen_values = true,
            value_name = "OPTIONS] -- PROGRAM [ARGS"
        )]
        args: Vec<std::ffi::OsString>,
    },
    /// Build, then debug a program: `cargo xtask gdb [OPTIONS] -- PROGRAM [ARGS...]`
    /// starts `faultline --gdb` and gdb connected to it with the kernel's and
    /// PROGRAM's symbols (docs/DEBUGGING.md).
    Gdb {
        /// faultline options, then `--`, then the program and its arguments.
        #[arg(
            trailing_var_arg = true,
            allow_hyphen_values = true,
            value_name = "OPTIONS] -- PROGRAM [ARGS"
        )]
        args: Vec<std::ffi::OsString>,
    },
    /// Check formatting and run clippy (warnings denied) over the host
    /// workspace and the guest packages `kernel/`, `user/` and
    /// `vmm/floor-guest/`.
    Lint,
    /// Build, then measure boot, system calls, faults, fork/exit, the floors
    /// and the suite in both CPU modes, and print one table (docs/PERFORMANCE.md).
    Bench {
        /// Repetitions of the boot measurement (the others and the emulated
        /// native mode use fewer).
        #[arg(long, default_value_t = 21)]
        runs: usize,
        /// A fast smoke run: few repetitions, small sizes, no suite.
        #[arg(long)]
        quick: bool,
        /// Skip timing the guest test suite and the vm test group.
        #[arg(long)]
        no_suite: bool,
    },
    /// Run the lint (as `cargo xtask lint`, counted as one test, `lint`),
    /// build, then run the host unit tests, the guest test suite and the
    /// docs' commands; the last line is `xtask test: N passed, M failed, K skipped`.
    Test {
        /// CPU modes to run the guest suite in: `both` (default) runs it with
        /// `auto` (the PVM guest mode on PVM hosts) and again with `native`.
        #[arg(long, value_enum, default_value_t = test::ModeChoice::Both)]
        cpu_mode: test::ModeChoice,
        /// Tests run at once [default: one per CPU].
        #[arg(short, long, value_name = "N")]
        jobs: Option<usize>,
        /// Leave out the lint (`cargo fmt --check` and clippy) for a quick
        /// loop; a full run, and CI, include it.
        #[arg(long)]
        no_lint: bool,
        /// Run only the tests whose name contains a FILTER, a `-` matching a
        /// `_` (`args-single`, `args_single` and `vm::page_linear` each select
        /// their test; `lint` the lint); an error when nothing matches.
        filter: Vec<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let paths = match paths::Paths::locate() {
        Ok(paths) => paths,
        Err(err) if matches!(cli.command, Command::Run { .. }) => {
            eprintln!("xtask: error: {err:#}");
            return ExitCode::from(run::STATUS_NOT_RUN);
        }
        Err(err) => return fail(&err),
    };
    let result = match cli.command {
        Command::Build => build::all(&paths).map(|()| ExitCode::SUCCESS),
        Command::Lint => lint::run(&paths),
        Command::Bench {
            runs,
            quick,
            no_suite,
        } => bench::run(
            &paths,
            &bench::Options {
                runs: if quick { runs.clamp(1, 3) } else { runs.max(1) },
                suite: !no_suite,
                quick,
            },
        )
        .map(|()| ExitCode::SUCCESS),
        // clap checks the shape; the arguments themselves are taken verbatim.
        Command::Run { args: _ } => Ok(run::main(&paths, &run::raw_run_args())),
        Command::Gdb { args: _ } => gdb::run(&paths, &gdb::raw_gdb_args()),
        Command::Test {
            cpu_mode,
            jobs,
            no_lint,
            filter,
        } => test::run(
            &paths,
            &test::Options {
                modes: cpu_mode.modes(),
                filter,
                jobs,
                lint: !no_lint,
            },
        ),
    };
    result.unwrap_or_else(|err| fail(&err))
}

/// Prints `err` with its context chain and returns a failing status.
fn fail(err: &anyhow::Error) -> ExitCode {
    eprintln!("xtask: error: {err:#}");
    ExitCode::FAILURE
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::{Cli, Command};

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("cargo xtask").chain(args.iter().copied()))
    }

    #[test]
    fn run_accepts_faultline_options_before_the_program() {
        let cli = parse(&["run", "--mem", "32M", "--stats", "--", "echo", "hi"]).unwrap();
        assert!(matches!(cli.command, Command::Run { .. }));
        let cli = parse(&["run", "--", "echo", "hello"]).unwrap();
        assert!(matches!(cli.command, Command::Run { .. }));
        let cli = parse(&["run", "--cpu-mode", "native", "--", "args", "-x", "--y"]).unwrap();
        assert!(matches!(cli.command, Command::Run { .. }));
        // `--help` goes to `run` itself, which adds faultline's options.
        let cli = parse(&["run", "--help"]).unwrap();
        assert!(matches!(cli.command, Command::Run { .. }));
    }

    #[test]
    fn test_takes_a_flag_and_a_filter() {
        let cli = parse(&["test", "--cpu-mode", "native", "args"]).unwrap();
        let Command::Test {
            cpu_mode, filter, ..
        } = cli.command
        else {
            panic!("not the test subcommand");
        };
        assert_eq!(cpu_mode.modes(), ["native"]);
        assert_eq!(filter, ["args"]);
        let Command::Test { cpu_mode, .. } = parse(&["test"]).unwrap().command else {
            panic!("not the test subcommand");
        };
        assert_eq!(cpu_mode.modes(), ["auto", "native"]);
        assert!(parse(&["test", "--bogus"]).is_err());
        let Command::Test { jobs, .. } = parse(&["test", "-j", "3"]).unwrap().command else {
            panic!("not the test subcommand");
        };
        assert_eq!(jobs, Some(3));
        let Command::Test { no_lint, .. } = parse(&["test"]).unwrap().command else {
            panic!("not the test subcommand");
        };
        assert!(!no_lint, "the lint is part of a plain `cargo xtask test`");
        let Command::Test {
            no_lint, filter, ..
        } = parse(&["test", "--no-lint", "args"]).unwrap().command
        else {
            panic!("not the test subcommand");
        };
        assert!(no_lint);
        assert_eq!(filter, ["args"]);
        let Command::Test { filter, .. } = parse(&["test", "halt", "page-linear"]).unwrap().command
        else {
            panic!("not the test subcommand");
        };
        assert_eq!(filter, ["halt", "page-linear"]);
    }
}
