//! What the CPU modes promise beyond the shared suite: in PVM guest mode the
//! kernel's hot paths (system calls, fork/exec/wait, page faults, file I/O,
//! context switches) execute no trapping instruction. (User reads of kernel
//! addresses and timer preemption are checked in both modes by the userprog
//! suite's `kernel-read` and `preempt` tests.)

use faultline_tests::{CpuMode, RunOpts, cpu_mode, expect, skip};

#[test]
fn pvm_hot_paths_execute_no_trapping_instruction() {
    if cpu_mode() != CpuMode::Pvm {
        skip("the trapping-instruction counter counts only in the PVM guest mode");
        return;
    }
    let mut want: Vec<String> = vec!["(pvm-traps) begin".into()];
    for i in 0..8 {
        want.push(format!("(pvm-traps) wait for child {i}"));
        want.push(format!("pvm-traps-kid: exit({i})"));
    }
    want.extend(
        [
            "(pvm-traps) exec child-simple",
            "(child-simple) run",
            "pvm-traps-kid: exit(81)",
            "(pvm-traps) create traps.dat",
            "(pvm-traps) write 5000 bytes",
            "(pvm-traps) read them back",
            "(pvm-traps) trapping instructions in hot paths: 0",
            "(pvm-traps) end",
            "pvm-traps: exit(0)",
        ]
        .map(String::from),
    );
    expect("pvm-traps", &RunOpts::new(), &want, 0);
}
