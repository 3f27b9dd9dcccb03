//! Robustness against resource exhaustion and hostile programs (issue 8):
//! nothing a user program does may panic, hang or starve the kernel. Each
//! test drives one class (descriptors, exit records, mappings, process
//! depth, a huge image, overcommitted memory, high descriptor numbers, code
//! in data pages, hostile system-call arguments, privileged instructions)
//! until the kernel must refuse, then proves in the same run that the
//! kernel still works (a file round trip and a fork) and, by requiring the
//! exact output, that nothing leaked (a `faultline: LEAK:` line would fail
//! it). Children's exit lines are ignored where many run at once.
//!
//! Everything lives in module `robust`, so `cargo xtask test robust` selects
//! the group.

mod robust {
    use faultline_tests::{Expected, Filter, RunOpts, expect_one_of, skip_heavy};

    /// The wall-clock limit of every VM here.
    const TIMEOUT: u64 = 120;

    /// `(NAME) begin`, `(NAME) MSG`..., the proof that the kernel still
    /// works, `(NAME) end`, `NAME: exit(0)`, status 0.
    fn survived(name: &str, msgs: &[&str]) -> Expected {
        let mut lines = vec![format!("({name}) begin")];
        lines.extend(msgs.iter().map(|m| format!("({name}) {m}")));
        lines.push("alive: exit(42)".into());
        lines.push(format!(
            "({name}) the kernel still works: file round trip and fork"
        ));
        lines.push(format!("({name}) end"));
        lines.push(format!("{name}: exit(0)"));
        Expected::new(&lines, 0)
    }

    fn opts() -> RunOpts {
        RunOpts::new().sample().timeout(TIMEOUT)
    }

    #[test]
    fn zombie_bomb() {
        let want = survived(
            "zombie-bomb",
            &[
                "fork failed cleanly after at least 15 children were left unwaited",
                "every child's status was kept until collected",
            ],
        );
        expect_one_of("zombie-bomb", &opts(), &[want], Filter::IgnoreExitCodes);
    }

    #[test]
    fn fd_bomb_with_fork() {
        if skip_heavy() {
            return;
        }
        let want = survived(
            "fd-bomb",
            &[
                "processes held hundreds of descriptors each",
                "fork failed cleanly once memory ran out",
            ],
        );
        let opts = opts().mem("16M");
        expect_one_of("fd-bomb", &opts, &[want], Filter::IgnoreExitCodes);
    }

    #[test]
    fn mmap_bomb_from_several_processes() {
        if skip_heavy() {
            return;
        }
        let want = survived(
            "mmap-bomb",
            &[
                "create \"bomb.dat\"",
                "write \"bomb.dat\"",
                "every process mapped many pages until mmap refused",
            ],
        );
        let opts = opts().mem("16M");
        expect_one_of("mmap-bomb", &opts, &[want], Filter::IgnoreExitCodes);
    }

    /// Pintos `multi-oom` at its own memory setting (`-m 20`): every round
    /// as deep as the first.
    #[test]
    fn multi_oom() {
        if skip_heavy() {
            return;
        }
        let want = Expected::new(
            &[
                "(multi-oom) begin",
                "(multi-oom) Spawned at least 10 children.",
                "(multi-oom) success. Program forked 10 iterations.",
                "(multi-oom) end",
            ],
            0,
        );
        let opts = opts().mem("20M");
        expect_one_of("multi-oom", &opts, &[want], Filter::IgnoreExitCodes);
    }

    /// A swap disk whose table would not fit in the kernel's memory (1 GiB of
    /// swap in 8 MiB of RAM): the kernel uses the part it can track, says so
    /// on one line, and works.
    #[test]
    fn a_huge_swap_disk_at_small_mem() {
        let out = faultline_tests::run("fs-fork-ok", &RunOpts::new().mem("8M").swap("1G"));
        let lines = out.lines();
        assert!(
            lines[0].starts_with("faultline: swap: using ")
                && lines[0].ends_with(" of the swap disk's 1024 MiB: its table would not fit in kernel memory (a larger --mem raises the limit)"),
            "{}",
            out.stdout
        );
        assert_eq!(
            lines.last().copied(),
            Some("fs-fork-ok: exit(0)"),
            "{}",
            out.stdout
        );
        assert_eq!(out.status, 0, "{}", out.stdout);
        assert!(!out.stdout.contains("LEAK"), "{}", out.stdout);
    }

    /// Thousands of system calls with hostile arguments (`sys-fuzz`: every
    /// call number, bad pointers, unterminated strings, huge lengths, bad
    /// descriptors, next to valid values), in a small user pool with swap so
    /// that the calls' buffers and mappings are evicted and faulted back.
    #[test]
    fn hostile_system_calls() {
        if skip_heavy() {
            return;
        }
        let want = survived(
            "sys-fuzz",
            &[
                "30 children made up to 500 system calls each, some hostile",
                "some children lived through every call, some were killed",
            ],
        );
        let opts = opts().user_mem("1M").swap("4M");
        expect_one_of("sys-fuzz", &opts, &[want], Filter::IgnoreExitCodes);
    }

    /// User code trying what only the kernel may (`bad-insns`): every
    /// interrupt vector, the PVM hypercalls and returns, port I/O to the
    /// VMM's devices, privileged instructions, kernel selectors. Each must
    /// end its process (a few host-dependent ones may return), and the kernel
    /// carries on.
    #[test]
    fn privileged_instructions_from_user_mode() {
        if skip_heavy() {
            return;
        }
        let want = survived(
            "bad-insns",
            &[
                "36 privileged instructions each ended their process",
                "8 doubtful ones left the kernel intact",
                "every interrupt vector but get_phys_addr and the PVM cpuid ended its process",
            ],
        );
        expect_one_of("bad-insns", &opts(), &[want], Filter::IgnoreExitCodes);
    }

    /// A 20 MiB `.bss` and a 2 MiB `.data` in 10 MiB of RAM with swap
    /// (Pintos runs such programs in 10 MB).
    #[test]
    fn big_image_at_small_mem() {
        if skip_heavy() {
            return;
        }
        let want = survived(
            "big-image",
            &[
                "the 2 MiB .data holds the executable's bytes",
                "every page of the 20 MiB .bss was written and read back",
            ],
        );
        let opts = opts().mem("10M").swap("31M");
        expect_one_of("big-image", &opts, &[want], Filter::None);
    }

    /// Processes needing more than memory and swap together: some are
    /// killed, the others finish, in seconds (16 here; the 64 of the issue's
    /// scenario take a few seconds more and are a benchmark, not a test).
    #[test]
    fn overcommit_finishes() {
        if skip_heavy() {
            return;
        }
        let want = survived(
            "overcommit",
            &[
                "create \"oc.dat\"",
                "create \"arrived.dat\"",
                "create \"go\": the children start",
                "create \"go2\": every child alive holds its pages",
                "all 16 children ran to an end, none with wrong memory",
                "the out-of-memory killer ended some of them",
                "the others finished",
            ],
        );
        let opts = RunOpts::new().user_mem("1M").swap("2M").timeout(TIMEOUT);
        expect_one_of(
            "overcommit 16",
            &opts,
            &[want],
            Filter::IgnoreExitsAndOomKills,
        );
    }

    #[test]
    fn dup2_to_large_fds() {
        let want = survived(
            "dup2-large",
            &[
                "open \"sample.txt\" takes fd 2",
                "dup2(fd, 0x1CE) = 0x1CE",
                "dup2(fd, 1023) = 1023",
                "dup2 to 1024, -1 or 2^31-1 fails",
                "read through fd 0x1CE",
                "the next open takes fd 3",
                "a closed fd is reused first",
                "the child reads through its copy of fd 1023",
                "open fails (-1) once all 1024 fds are in use",
                "dup2 still replaces one then",
            ],
        );
        expect_one_of("dup2-large", &opts(), &[want], Filter::IgnoreExitCodes);
    }

    #[test]
    fn code_in_data_pages_does_not_run() {
        let want = survived(
            "nx-exec",
            &[
                "create \"code.bin\"",
                "code written to .bss does not run",
                "code written to .data does not run",
                "code written to the stack does not run",
                "code written to a file mapping does not run",
                "code in a read-only file mapping does not run",
                "the program's own code runs",
            ],
        );
        expect_one_of("nx-exec", &opts(), &[want], Filter::IgnoreExitCodes);
    }
}
