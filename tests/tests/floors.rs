//! The floor guest (`vmm/floor-guest`), the minimal kernel `cargo xtask
//! bench` measures the host's floors with: it boots in the suite's CPU mode,
//! takes every event it measures (a user page fault whose handler fails to
//! map the page would end it with an unexpected exception and status 1) and
//! reports a positive cost for each.

use std::process::Command;

#[test]
fn the_floor_guest_measures_every_event_of_its_mode() {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    let (bin, guest) = (faultline_tests::vmm_bin(), faultline_tests::floor_guest());
    let mut cmd = Command::new(bin);
    cmd.arg("--kernel")
        .arg(guest)
        .args(["--quiet", "--timeout", "60"]);
    if let Some(mode) = var("FAULTLINE_CPU_MODE") {
        cmd.arg("--cpu-mode").arg(mode);
    }
    let out = cmd
        .args(["--", "floor", "50"])
        .output()
        .expect("faultline runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    let pvm = match lines.first() {
        Some(&"floor: mode pvm") => true,
        Some(&"floor: mode native") => false,
        _ => panic!("no mode line:\n{stdout}"),
    };
    let kinds: &[&str] = if pvm {
        &[
            "hypercall",
            "port-exit",
            "mmio-exit",
            "int3",
            "page-fault",
            "shadow-fill",
            "syscall",
        ]
    } else {
        &[
            "port-exit",
            "mmio-exit",
            "int3",
            "page-fault",
            "shadow-fill",
        ]
    };
    assert_eq!(lines.len(), 1 + kinds.len(), "{stdout}");
    for (line, kind) in lines[1..].iter().zip(kinds) {
        let prefix = format!("floor: {kind} 50 times, ");
        let cycles: u64 = line
            .strip_prefix(&prefix)
            .and_then(|rest| rest.strip_suffix(" cycles each"))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("`{line}` is not `{prefix}C cycles each`"));
        assert!(cycles > 0, "{line}");
    }
}
