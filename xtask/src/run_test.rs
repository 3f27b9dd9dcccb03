//! `cargo xtask run --test NAME [--cpu-mode MODE]`: build, then run one guest
//! test exactly as `cargo xtask test` does (its files, options and CPU
//! mode), with every VM it boots showing its `faultline` command, console,
//! stderr and exit status, and the judge's verdict; end with the test's
//! `pass`/`FAIL`/`skip` line.

use std::ffi::OsString;
use std::io::{Read, Write};
use std::process::{ExitCode, Stdio};
use std::time::Instant;

use anyhow::{Context, Result, bail};

use crate::build;
use crate::paths::Paths;
use crate::test::{self, Finished, Verdict};

/// `--test NAME` and `--cpu-mode MODE` from the arguments after `run`.
fn parse(args: &[OsString]) -> Result<(String, String)> {
    let mut name = None;
    let mut mode = "auto".to_owned();
    let mut args = args.iter().map(|a| a.to_string_lossy());
    while let Some(arg) = args.next() {
        match arg.as_ref() {
            "--test" => name = args.next().map(|n| n.into_owned()),
            "--cpu-mode" => {
                mode = args
                    .next()
                    .context("--cpu-mode needs a value: auto, native or pvm")?
                    .into_owned();
                if !["auto", "native", "pvm"].contains(&mode.as_str()) {
                    bail!("--cpu-mode {mode}: expected auto, native or pvm");
                }
            }
            other => bail!(
                "`cargo xtask run --test NAME` takes only --cpu-mode MODE besides, not `{other}` \
                 (the test sets its own options)"
            ),
        }
    }
    let name = name.context("--test needs a test name, e.g. vm::page_linear")?;
    Ok((name, mode))
}

/// Builds, finds the test, runs it with its output shown; 0 if it passed or
/// skipped, 1 if it failed.
pub fn main(paths: &Paths, args: &[OsString]) -> Result<ExitCode> {
    let (wanted, mode) = parse(args)?;
    build::all(paths)?;
    let tests = test::build_and_list(paths)?;
    let names: Vec<&str> = tests.iter().map(|t| t.name.as_str()).collect();
    let name = test::resolve_one(&names, &wanted).map_err(anyhow::Error::msg)?;
    let guest = tests
        .iter()
        .find(|t| t.name == name)
        .context("the resolved test is listed")?;
    eprintln!("xtask: running {name} with --cpu-mode {mode}");
    let (mut reader, writer) = std::io::pipe().context("cannot make a pipe")?;
    let mut cmd = test::guest_command(paths, guest, &mode, true);
    cmd.stdin(Stdio::null())
        .stdout(writer.try_clone().context("cannot share a pipe")?)
        .stderr(writer);
    let started = Instant::now();
    let mut child = cmd
        .spawn()
        .with_context(|| format!("cannot run {}", guest.exe.display()))?;
    drop(cmd);
    // Echo the test's output as it comes, and keep it for the verdict.
    let mut output = Vec::new();
    let mut chunk = [0u8; 4096];
    let mut out = std::io::stdout();
    loop {
        match reader.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => {
                output.extend_from_slice(&chunk[..n]);
                // Losing our own stdout must not stop the test.
                let _ = out.write_all(&chunk[..n]);
                let _ = out.flush();
            }
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
            Err(err) => return Err(err).context("cannot read the test's output"),
        }
    }
    let status = child.wait().context("cannot wait for the test")?;
    let finished = Finished {
        index: 0,
        name: name.to_owned(),
        output: String::from_utf8_lossy(&output).into_owned(),
        code: status.code(),
        timed_out: false,
        error: None,
        elapsed: started.elapsed(),
    };
    Ok(match test::verdict(&finished) {
        Verdict::Pass => {
            println!("pass {name}");
            ExitCode::SUCCESS
        }
        Verdict::Skip(reason) => {
            println!("skip {name} ({reason})");
            ExitCode::SUCCESS
        }
        Verdict::Fail(why) => {
            if let Some(why) = why {
                println!("xtask: {why}");
            }
            println!("FAIL {name}");
            ExitCode::FAILURE
        }
    })
}

#[cfg(test)]
mod tests {
    use std::ffi::OsString;

    use super::parse;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    #[test]
    fn takes_a_name_and_a_mode_only() {
        assert_eq!(
            parse(&args(&["--test", "vm::page_linear"])).unwrap(),
            ("vm::page_linear".into(), "auto".into())
        );
        assert_eq!(
            parse(&args(&["--cpu-mode", "native", "--test", "args-single"])).unwrap(),
            ("args-single".into(), "native".into())
        );
        assert!(parse(&args(&["--test"])).is_err());
        assert!(parse(&args(&["--test", "x", "--mem", "32M"])).is_err());
        assert!(parse(&args(&["--test", "x", "--cpu-mode", "fast"])).is_err());
    }
}
