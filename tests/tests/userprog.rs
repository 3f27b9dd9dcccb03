//! The Pintos user-program tests (KAIST `tests/userprog`, plus dup2, a
//! multi-oom style fork bomb, kernel isolation and preemption): each test boots
//! a VM running one guest program and checks the exact console lines and the
//! VMM's exit status. Where Pintos accepts several outputs (a call that may
//! either fail or kill the process), so does the test.

use faultline_tests::{Expected, Filter, KILLED, RunOpts, expect, expect_one_of};

/// Options of most tests: `sample.txt` in the guest file system.
fn opts() -> RunOpts {
    RunOpts::new().sample()
}

/// Owned lines.
fn lines(list: &[&str]) -> Vec<String> {
    list.iter().map(|l| l.to_string()).collect()
}

/// `(NAME) begin`, `lines`, `(NAME) end`, `NAME: exit(0)`, status 0.
fn finished(name: &str, middle: &[&str]) -> Expected {
    let mut all = vec![format!("({name}) begin")];
    all.extend(lines(middle));
    all.push(format!("({name}) end"));
    all.push(format!("{name}: exit(0)"));
    Expected::new(&all, 0)
}

/// `(NAME) begin`, `lines`, `NAME: exit(-1)`, killed status.
fn killed(name: &str, middle: &[&str]) -> Expected {
    let mut all = vec![format!("({name}) begin")];
    all.extend(lines(middle));
    all.push(format!("{name}: exit(-1)"));
    Expected::new(&all, KILLED)
}

/// Requires exactly one result.
fn check(cmdline: &str, want: Expected) {
    expect_one_of(cmdline, &opts(), &[want], Filter::None);
}

/// Accepts either result (Pintos: "fail or exit(-1)").
fn check_either(cmdline: &str, a: Expected, b: Expected) {
    expect_one_of(cmdline, &opts(), &[a, b], Filter::None);
}

/// The output of the `args` program for `argv`.
fn args_output(argv: &[&str]) -> Vec<String> {
    let mut out = vec![
        "(args) begin".to_string(),
        format!("(args) argc = {}", argv.len()),
    ];
    for (i, a) in argv.iter().enumerate() {
        out.push(format!("(args) argv[{i}] = '{a}'"));
    }
    out.push(format!("(args) argv[{}] = null", argv.len()));
    out.push("(args) end".into());
    out
}

fn args_test(cmdline: &str, argv: &[&str]) {
    let mut want = args_output(argv);
    want.push(format!("{}: exit(0)", argv[0]));
    expect(cmdline, &opts(), &want, 0);
}

// ---- argument passing

#[test]
fn args_none() {
    args_test("args-none", &["args-none"]);
}

#[test]
fn args_single() {
    args_test("args-single onearg", &["args-single", "onearg"]);
}

#[test]
fn args_multiple() {
    args_test(
        "args-multiple some arguments for you!",
        &["args-multiple", "some", "arguments", "for", "you!"],
    );
}

#[test]
fn args_many() {
    let letters: Vec<String> = ('a'..='v').map(String::from).collect();
    let mut argv = vec!["args-many"];
    argv.extend(letters.iter().map(String::as_str));
    args_test(&argv.join(" "), &argv);
}

#[test]
fn args_dbl_space() {
    args_test(
        "args-dbl-space two  spaces!",
        &["args-dbl-space", "two", "spaces!"],
    );
}

// ---- halt, exit

#[test]
fn halt() {
    expect::<&str>("halt", &opts(), &[], 0);
}

#[test]
fn exit() {
    expect("exit", &opts(), &["(exit) begin", "exit: exit(57)"], 57);
}

// ---- create

#[test]
fn create_normal() {
    check(
        "create-normal",
        finished("create-normal", &["(create-normal) create quux.dat"]),
    );
}

#[test]
fn create_empty() {
    check_either(
        "create-empty",
        finished("create-empty", &["(create-empty) create(\"\"): 0"]),
        killed("create-empty", &[]),
    );
}

#[test]
fn create_null() {
    check("create-null", killed("create-null", &[]));
}

#[test]
fn create_bad_ptr() {
    check("create-bad-ptr", killed("create-bad-ptr", &[]));
}

#[test]
fn create_long() {
    check(
        "create-long",
        finished("create-long", &["(create-long) create(\"x\" * 511): 0"]),
    );
}

#[test]
fn create_exists() {
    check(
        "create-exists",
        finished(
            "create-exists",
            &[
                "(create-exists) create quux.dat",
                "(create-exists) create warble.dat",
                "(create-exists) try to re-create quux.dat",
                "(create-exists) create baffle.dat",
                "(create-exists) try to re-create warble.dat",
            ],
        ),
    );
}

#[test]
fn create_bound() {
    check(
        "create-bound",
        finished("create-bound", &["(create-bound) create(\"quux.dat\"): 1"]),
    );
}

// ---- open

#[test]
fn open_normal() {
    check(
        "open-normal",
        finished("open-normal", &["(open-normal) open \"sample.txt\""]),
    );
}

#[test]
fn open_missing() {
    check(
        "open-missing",
        finished("open-missing", &["(open-missing) open \"no-such-file\""]),
    );
}

#[test]
fn open_boundary() {
    check(
        "open-boundary",
        finished("open-boundary", &["(open-boundary) open \"sample.txt\""]),
    );
}

#[test]
fn open_empty() {
    check(
        "open-empty",
        finished("open-empty", &["(open-empty) open(\"\") returned -1"]),
    );
}

#[test]
fn open_null() {
    check("open-null", killed("open-null", &[]));
}

#[test]
fn open_bad_ptr() {
    check("open-bad-ptr", killed("open-bad-ptr", &[]));
}

#[test]
fn open_unterminated_name() {
    check(
        "open-unterm",
        killed(
            "open-unterm",
            &["(open-unterm) open a name that runs into an unmapped page"],
        ),
    );
}

#[test]
fn open_twice() {
    check(
        "open-twice",
        finished(
            "open-twice",
            &[
                "(open-twice) open \"sample.txt\" once",
                "(open-twice) open \"sample.txt\" again",
            ],
        ),
    );
}

// ---- close

#[test]
fn close_normal() {
    check(
        "close-normal",
        finished(
            "close-normal",
            &[
                "(close-normal) open \"sample.txt\"",
                "(close-normal) close \"sample.txt\"",
            ],
        ),
    );
}

#[test]
fn close_twice() {
    let before = [
        "(close-twice) open \"sample.txt\"",
        "(close-twice) close \"sample.txt\"",
        "(close-twice) close \"sample.txt\" again",
    ];
    check_either(
        "close-twice",
        finished("close-twice", &before),
        killed("close-twice", &before),
    );
}

#[test]
fn close_bad_fd() {
    check_either(
        "close-bad-fd",
        finished("close-bad-fd", &[]),
        killed("close-bad-fd", &[]),
    );
}

// ---- read

#[test]
fn read_normal() {
    check(
        "read-normal",
        finished(
            "read-normal",
            &[
                "(read-normal) open \"sample.txt\"",
                "(read-normal) read \"sample.txt\"",
                "(read-normal) verified contents of \"sample.txt\"",
            ],
        ),
    );
}

#[test]
fn read_bad_ptr() {
    check(
        "read-bad-ptr",
        killed("read-bad-ptr", &["(read-bad-ptr) open \"sample.txt\""]),
    );
}

#[test]
fn read_boundary() {
    check(
        "read-boundary",
        finished(
            "read-boundary",
            &[
                "(read-boundary) open \"sample.txt\"",
                "(read-boundary) read \"sample.txt\" across a page boundary",
                "(read-boundary) verified contents of \"sample.txt\"",
            ],
        ),
    );
}

#[test]
fn read_zero() {
    check(
        "read-zero",
        finished(
            "read-zero",
            &[
                "(read-zero) open \"sample.txt\"",
                "(read-zero) read() of 0 bytes returned 0",
            ],
        ),
    );
}

#[test]
fn read_stdout() {
    check_either(
        "read-stdout",
        finished("read-stdout", &["(read-stdout) read(STDOUT) returned -1"]),
        killed("read-stdout", &[]),
    );
}

#[test]
fn read_bad_fd() {
    check_either(
        "read-bad-fd",
        finished("read-bad-fd", &[]),
        killed("read-bad-fd", &[]),
    );
}

// ---- write

#[test]
fn write_normal() {
    check(
        "write-normal",
        finished(
            "write-normal",
            &[
                "(write-normal) open \"sample.txt\"",
                "(write-normal) write() returned 373",
            ],
        ),
    );
}

#[test]
fn write_bad_ptr() {
    check(
        "write-bad-ptr",
        killed("write-bad-ptr", &["(write-bad-ptr) open \"sample.txt\""]),
    );
}

#[test]
fn write_boundary() {
    check(
        "write-boundary",
        finished(
            "write-boundary",
            &[
                "(write-boundary) open \"sample.txt\"",
                "(write-boundary) write() returned 373",
            ],
        ),
    );
}

#[test]
fn write_zero() {
    check(
        "write-zero",
        finished(
            "write-zero",
            &[
                "(write-zero) open \"sample.txt\"",
                "(write-zero) write() of 0 bytes returned 0",
            ],
        ),
    );
}

#[test]
fn write_stdin() {
    check_either(
        "write-stdin",
        finished("write-stdin", &["(write-stdin) write(STDIN) returned -1"]),
        killed("write-stdin", &[]),
    );
}

#[test]
fn write_bad_fd() {
    check_either(
        "write-bad-fd",
        finished("write-bad-fd", &[]),
        killed("write-bad-fd", &[]),
    );
}

// ---- fork

#[test]
fn fork_once() {
    check(
        "fork-once",
        finished(
            "fork-once",
            &[
                "(fork-once) child run",
                "child: exit(81)",
                "(fork-once) Parent: child exit status is 81",
            ],
        ),
    );
}

#[test]
fn fork_multiple() {
    let mut middle = Vec::new();
    for status in 4..8 {
        middle.push("(fork-multiple) child run".to_string());
        middle.push(format!("child: exit({status})"));
        middle.push(format!(
            "(fork-multiple) Parent: child exit status is {status}"
        ));
    }
    let middle: Vec<&str> = middle.iter().map(String::as_str).collect();
    check("fork-multiple", finished("fork-multiple", &middle));
}

#[test]
fn fork_recursive() {
    let mut middle: Vec<String> = (1..=5)
        .map(|l| format!("(fork-recursive) child {l} run"))
        .collect();
    for level in (1..=5).rev() {
        let status = 100 + 5 - level;
        middle.push(format!("child: exit({status})"));
        middle.push(format!(
            "(fork-recursive) child {level} exit status is {status}"
        ));
    }
    let middle: Vec<&str> = middle.iter().map(String::as_str).collect();
    check("fork-recursive", finished("fork-recursive", &middle));
}

#[test]
fn fork_read() {
    check(
        "fork-read",
        finished(
            "fork-read",
            &[
                "(fork-read) open \"sample.txt\"",
                "(fork-read) read the first 20 bytes",
                "(fork-read) child run",
                "(fork-read) Child: pintos is funny!",
                "(fork-read) end",
                "child: exit(0)",
                "(fork-read) Parent success",
            ],
        ),
    );
}

#[test]
fn fork_close() {
    check(
        "fork-close",
        finished(
            "fork-close",
            &[
                "(fork-close) open \"sample.txt\"",
                "(fork-close) child run",
                "(fork-close) end",
                "child: exit(0)",
                "(fork-close) Parent success",
            ],
        ),
    );
}

#[test]
fn fork_boundary() {
    check(
        "fork-boundary",
        finished(
            "fork-boundary",
            &[
                "(fork-boundary) child run",
                "child-simple: exit(54)",
                "(fork-boundary) fork",
                "(fork-boundary) wait",
            ],
        ),
    );
}

// ---- exec

#[test]
fn exec_once() {
    expect(
        "exec-once",
        &opts(),
        &[
            "(exec-once) begin",
            "(exec-once) I'm your father",
            "(child-simple) run",
            "exec-once: exit(81)",
        ],
        81,
    );
}

#[test]
fn exec_arg() {
    let mut want = vec!["(exec-arg) begin".to_string()];
    want.extend(args_output(&["child-args", "childarg"]));
    want.push("exec-arg: exit(0)".into());
    expect("exec-arg", &opts(), &want, 0);
}

#[test]
fn exec_boundary() {
    expect(
        "exec-boundary",
        &opts(),
        &[
            "(exec-boundary) begin",
            "(child-simple) run",
            "exec-boundary: exit(81)",
        ],
        81,
    );
}

#[test]
fn exec_missing() {
    check_either(
        "exec-missing",
        killed("exec-missing", &["load: no-such-file: open failed"]),
        killed(
            "exec-missing",
            &[
                "load: no-such-file: open failed",
                "(exec-missing) exec(\"no-such-file\") returned -1",
            ],
        ),
    );
}

#[test]
fn exec_bad_ptr() {
    check("exec-bad-ptr", killed("exec-bad-ptr", &[]));
}

#[test]
fn exec_read() {
    check(
        "exec-read",
        finished(
            "exec-read",
            &[
                "(exec-read) open \"sample.txt\"",
                "(exec-read) read \"sample.txt\" first 20 bytes",
                "(child-read) begin",
                "(child-read) open \"sample.txt\"",
                "(child-read) read \"sample.txt\" first 20 bytes",
                "(child-read) read \"sample.txt\" remainders",
                "(child-read) Child success",
                "(child-read) end",
                "child-read: exit(0)",
                "(exec-read) Parent success",
            ],
        ),
    );
}

// ---- wait

#[test]
fn wait_simple() {
    check(
        "wait-simple",
        finished(
            "wait-simple",
            &[
                "(child-simple) run",
                "child-simple: exit(81)",
                "(wait-simple) wait(exec()) = 81",
            ],
        ),
    );
}

#[test]
fn wait_twice() {
    check(
        "wait-twice",
        finished(
            "wait-twice",
            &[
                "(child-simple) run",
                "child-simple: exit(81)",
                "(wait-twice) wait(exec()) = 81",
                "(wait-twice) wait(exec()) = -1",
            ],
        ),
    );
}

#[test]
fn wait_killed() {
    check(
        "wait-killed",
        finished(
            "wait-killed",
            &[
                "(child-bad) begin",
                "child-bad: exit(-1)",
                "(wait-killed) wait(exec()) = -1",
            ],
        ),
    );
}

#[test]
fn wait_bad_pid() {
    check_either(
        "wait-bad-pid",
        finished("wait-bad-pid", &["(wait-bad-pid) wait(0x0c020301) = -1"]),
        killed("wait-bad-pid", &[]),
    );
}

// ---- multi

#[test]
fn multi_recurse() {
    let mut want: Vec<String> = (0..=15)
        .rev()
        .map(|n| format!("(multi-recurse) begin {n}"))
        .collect();
    for n in 0..=15 {
        want.push(format!("(multi-recurse) end {n}"));
        want.push(format!("multi-recurse: exit({n})"));
    }
    expect("multi-recurse 15", &opts(), &want, 15);
}

#[test]
fn multi_child_fd() {
    check(
        "multi-child-fd",
        finished(
            "multi-child-fd",
            &[
                "(multi-child-fd) open \"sample.txt\"",
                "(child-close) begin",
                "(child-close) end",
                "child-close: exit(0)",
                "(multi-child-fd) wait(exec()) = 0",
                "(multi-child-fd) verified contents of \"sample.txt\"",
            ],
        ),
    );
}

// ---- read-only executables

#[test]
fn rox_simple() {
    check(
        "rox-simple",
        finished(
            "rox-simple",
            &[
                "(rox-simple) open \"rox-simple\"",
                "(rox-simple) read \"rox-simple\"",
                "(rox-simple) try to write \"rox-simple\"",
            ],
        ),
    );
}

/// The output of `rox-child` / `rox-multichild`, whose `child-rox` nests `depth` deep.
fn rox_output(name: &str, depth: u32) -> Expected {
    let mut middle = vec![
        format!("({name}) open \"child-rox\""),
        format!("({name}) read \"child-rox\""),
        format!("({name}) write \"child-rox\""),
        format!("({name}) exec \"child-rox {depth}\""),
    ];
    for _ in 0..depth {
        middle.push("(child-rox) begin".into());
        middle.push("(child-rox) try to write \"child-rox\"".into());
    }
    for _ in 0..depth {
        middle.push("(child-rox) try to write \"child-rox\"".into());
        middle.push("(child-rox) end".into());
        middle.push("child-rox: exit(12)".into());
    }
    middle.push(format!("({name}) wait(exec()) = 12"));
    middle.push(format!("({name}) write \"child-rox\""));
    let middle: Vec<&str> = middle.iter().map(String::as_str).collect();
    finished(name, &middle)
}

#[test]
fn rox_child() {
    check("rox-child", rox_output("rox-child", 1));
}

#[test]
fn rox_multichild() {
    check("rox-multichild", rox_output("rox-multichild", 5));
}

// ---- bad accesses

#[test]
fn bad_read() {
    check("bad-read", killed("bad-read", &[]));
}

#[test]
fn bad_write() {
    check("bad-write", killed("bad-write", &[]));
}

#[test]
fn bad_jump() {
    check("bad-jump", killed("bad-jump", &[]));
}

#[test]
fn bad_read2() {
    check("bad-read2", killed("bad-read2", &[]));
}

#[test]
fn bad_write2() {
    check("bad-write2", killed("bad-write2", &[]));
}

#[test]
fn bad_jump2() {
    check("bad-jump2", killed("bad-jump2", &[]));
}

// ---- kernel isolation

#[test]
fn kernel_read_direct_map() {
    check(
        "kernel-read direct",
        killed(
            "kernel-read",
            &["(kernel-read) load from 0xffff888000200000"],
        ),
    );
}

#[test]
fn kernel_read_kernel_image() {
    check(
        "kernel-read image",
        killed(
            "kernel-read",
            &["(kernel-read) load from 0xffffffff80200000"],
        ),
    );
}

#[test]
fn kernel_read_syscall_into_direct_map() {
    check(
        "kernel-read sys-read",
        killed(
            "kernel-read",
            &[
                "(kernel-read) open \"sample.txt\"",
                "(kernel-read) read() into 0xffff888000200000",
            ],
        ),
    );
}

#[test]
fn kernel_read_syscall_from_kernel_image() {
    check(
        "kernel-read sys-write",
        killed(
            "kernel-read",
            &["(kernel-read) write() from 0xffffffff80200000"],
        ),
    );
}

// ---- dup2

#[test]
fn dup2_simple() {
    check(
        "dup2-simple",
        finished(
            "dup2-simple",
            &[
                "(dup2-simple) open \"sample.txt\" takes fd 0, the lowest free one",
                "(dup2-simple) dup2(fd, 100) = 100",
                "(dup2-simple) read the rest through fd 100",
                "(dup2-simple) fd 100 works after closing the original",
            ],
        ),
    );
}

#[test]
fn dup2_complex() {
    check(
        "dup2-complex",
        finished(
            "dup2-complex",
            &[
                "(dup2-complex) read() from a closed stdin fails",
                "(dup2-complex) create \"dup.out\"",
                "(dup2-complex) open \"dup.out\" takes fd 0, the lowest free one",
                "(dup2-complex) dup2(1, 20) = 20",
                "(dup2-complex) stdout redirected and restored",
                "(dup2-complex) offset after writing through fd 1 is 42",
                "(dup2-complex) the file holds \"(dup2-complex) this line goes to the file\"",
                "(dup2-complex) dup2(file, 30) = 30",
                "(dup2-complex) child: duplicates share the offset and survive fork",
                "child: exit(9)",
                "(dup2-complex) wait(child) = 9",
                "(dup2-complex) parent's descriptor survives the child's close",
                "(dup2-complex) stdout closed and restored",
                "(dup2-complex) dup2(fd, fd) = fd",
                "(dup2-complex) dup2 of a closed fd = -1",
            ],
        ),
    );
}

// ---- resource exhaustion and scheduling

#[test]
fn fork_bomb() {
    // Hundreds of forks of processes holding hundreds of descriptors: minutes
    // of kernel work in the emulated native mode.
    if faultline_tests::skip_heavy() {
        return;
    }
    // Exit lines of the many children are ignored, as Pintos multi-oom does;
    // the VMM's status still has to be 0.
    let want = Expected::new(
        &[
            "(fork-bomb) begin",
            "(fork-bomb) spawned at least 10 children",
            "(fork-bomb) success: 4 rounds forked as deep as the first",
            "(fork-bomb) end",
        ],
        0,
    );
    let opts = RunOpts::new().user_mem("1M").timeout(180);
    expect_one_of("fork-bomb", &opts, &[want], Filter::IgnoreExitCodes);
}

#[test]
fn preempt() {
    check(
        "preempt",
        finished(
            "preempt",
            &[
                "(preempt) create \"flag\"",
                "(preempt) open \"flag\"",
                "(preempt) fork a child that spins without system calls",
                "(preempt) the child is spinning",
                "(preempt) parent still runs (1)",
                "(preempt) parent still runs (2)",
                "(preempt) parent still runs (3)",
            ],
        ),
    );
}

#[test]
fn yield_child() {
    check(
        "yield-child",
        Expected::new(
            &lines(&[
                "(yield-child) begin",
                "child: exit(0)",
                "(yield-child) fork a child",
                "(yield-child) yield returns 0",
                "(yield-child) the ready child ran while its parent yielded",
                "(yield-child) wait for the child: exit status 0",
                "(yield-child) end",
                "yield-child: exit(0)",
            ]),
            0,
        ),
    );
}
