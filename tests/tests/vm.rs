//! The virtual-memory tests (issue 4, in the spirit of Pintos `tests/vm`):
//! stack growth, bad accesses, lazy loading, eviction and swap of anonymous
//! and file-backed pages, a full swap disk, mmap and munmap with every
//! argument rule, fork and exec under memory pressure, and the absence of
//! leaks.
//!
//! Each test boots its own VM with the memory sized to force what it tests
//! (`--user-mem` caps the user frame pool, `--swap` adds a swap disk) and
//! requires the exact console lines and exit status. Exact matching also
//! fails a test whose run ends with the kernel's `faultline: LEAK:` line.
//! Where children run at once, their exit lines are ignored (their parents
//! check their statuses). The expected checksums come from the same code the
//! guest programs run (`user/src/vmtest.rs`, included below), computed on the
//! host. The heavy tests skip themselves where the native CPU mode is emulated
//! (PVM hosts).
//!
//! Everything lives in module `vm`, so `cargo xtask test vm` selects the group.

#[path = "../../user/src/vmtest.rs"]
#[allow(dead_code)]
mod vmtest;

mod vm {
    use std::path::PathBuf;

    use faultline_tests::{
        Expected, Filter, KILLED, Outcome, RunOpts, TempDir, expect_one_of, judge, skip_heavy,
    };
    use vmm::fsimage::FsImage;

    use crate::vmtest::{self, PAGE};

    /// The wall-clock limit of every VM here, generous for the PVM guest mode.
    const TIMEOUT: u64 = 60;

    /// Expected console lines of one program, built from its messages.
    struct Out {
        name: String,
        lines: Vec<String>,
    }

    impl Out {
        /// `(NAME) begin`.
        fn begin(name: &str) -> Out {
            Out {
                name: name.to_owned(),
                lines: vec![format!("({name}) begin")],
            }
        }

        /// `(NAME) text`.
        fn msg(mut self, text: impl AsRef<str>) -> Out {
            self.lines
                .push(format!("({}) {}", self.name, text.as_ref()));
            self
        }

        /// `(NAME) text` for each text.
        fn msgs(self, texts: &[&str]) -> Out {
            texts.iter().fold(self, |out, t| out.msg(t))
        }

        /// A line as it is (another process's message or exit line).
        fn line(mut self, line: impl AsRef<str>) -> Out {
            self.lines.push(line.as_ref().to_owned());
            self
        }

        /// `(NAME) end`, `NAME: exit(0)`, status 0.
        fn end(self) -> Expected {
            let name = self.name.clone();
            let out = self.line(format!("({name}) end"));
            Expected::new(&out.line(format!("{name}: exit(0)")).lines, 0)
        }

        /// `NAME: exit(-1)`, the status of a killed program.
        fn killed(self) -> Expected {
            let name = self.name.clone();
            Expected::new(&self.line(format!("{name}: exit(-1)")).lines, KILLED)
        }
    }

    /// Options of the light tests: `sample.txt` in the file system.
    fn light() -> RunOpts {
        RunOpts::new().sample().timeout(TIMEOUT)
    }

    /// Options of the tests under memory pressure: a user pool of `user_mem`
    /// and a swap disk of `swap`.
    fn pressure(user_mem: &str, swap: &str) -> RunOpts {
        RunOpts::new()
            .user_mem(user_mem)
            .swap(swap)
            .timeout(TIMEOUT)
    }

    /// Runs `cmdline` and requires exactly `want`.
    fn check(cmdline: &str, opts: &RunOpts, want: Expected) -> Outcome {
        expect_one_of(cmdline, opts, &[want], Filter::None)
    }

    /// Runs `cmdline` and requires `want`, ignoring exit lines.
    fn check_ignoring_exits(cmdline: &str, opts: &RunOpts, want: Expected) -> Outcome {
        expect_one_of(cmdline, opts, &[want], Filter::IgnoreExitCodes)
    }

    /// Writes `large.txt` (the contents the swap tests expect) into `dir` and
    /// returns the `--put` argument for it.
    fn large_file(dir: &TempDir) -> String {
        let mut data = vec![0u8; vmtest::LARGE_SIZE];
        vmtest::fill_pattern(&mut data, vmtest::LARGE_SEED, 0);
        let path = dir.path().join(vmtest::LARGE_NAME);
        std::fs::write(&path, &data)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        format!("{}:{}", path.display(), vmtest::LARGE_NAME)
    }

    /// The checksum lines of a shuffle test over `size` bytes with `seed`.
    fn shuffle_lines(size: usize, seed: u64) -> Vec<String> {
        let mut buf = vec![0u8; size];
        let mut lines = Vec::new();
        vmtest::shuffle_test(&mut buf, seed, |round, sum| {
            lines.push(if round == 0 {
                format!("init: cksum={sum}")
            } else {
                format!("shuffle {round}: cksum={sum}")
            });
        });
        lines
    }

    // ---- the judge itself

    #[test]
    fn a_leak_line_fails_the_exact_output() {
        let want = Out::begin("t").msg("x").end();
        let clean = Outcome {
            stdout: "(t) begin\n(t) x\n(t) end\nt: exit(0)\n".into(),
            stderr: String::new(),
            status: 0,
        };
        assert!(judge(&clean, std::slice::from_ref(&want), Filter::None).is_ok());
        let leaky = Outcome {
            stdout: format!(
                "{}faultline: LEAK: 3 user frames in use, kernel frames 10 -> 10\n",
                clean.stdout
            ),
            ..clean
        };
        for filter in [Filter::None, Filter::IgnoreExitCodes] {
            let report = judge(&leaky, std::slice::from_ref(&want), filter).unwrap_err();
            assert!(report.contains("+ faultline: LEAK"), "{report}");
        }
    }

    // ---- stack growth and bad accesses

    #[test]
    fn pt_grow_stack() {
        // The same checksum as Pintos: ARC4("foobar") over 4 KiB of zeros.
        let want = Out::begin("pt-grow-stack").msg("cksum: 3424492700").end();
        check("pt-grow-stack", &light(), want);
    }

    #[test]
    fn pt_big_stk_obj() {
        // The same checksum as Pintos: ARC4("foobar") over 64 KiB of zeros.
        let want = Out::begin("pt-big-stk-obj").msg("cksum: 3256410166").end();
        check("pt-big-stk-obj", &light(), want);
    }

    #[test]
    fn pt_grow_stk_sc() {
        let want = Out::begin("pt-grow-stk-sc")
            .msgs(&[
                "open \"sample.txt\"",
                "read \"sample.txt\" into a stack page that does not exist yet",
                "compare read data against the file",
            ])
            .end();
        check("pt-grow-stk-sc", &light(), want);
    }

    #[test]
    fn pt_grow_bad() {
        check("pt-grow-bad", &light(), Out::begin("pt-grow-bad").killed());
    }

    #[test]
    fn pt_bad_addr() {
        check("pt-bad-addr", &light(), Out::begin("pt-bad-addr").killed());
    }

    #[test]
    fn pt_bad_read() {
        let want = Out::begin("pt-bad-read")
            .msg("open \"sample.txt\"")
            .killed();
        check("pt-bad-read", &light(), want);
    }

    #[test]
    fn pt_write_code() {
        check(
            "pt-write-code",
            &light(),
            Out::begin("pt-write-code").killed(),
        );
    }

    #[test]
    fn pt_write_code2() {
        let want = Out::begin("pt-write-code2")
            .msg("open \"sample.txt\"")
            .killed();
        check("pt-write-code2", &light(), want);
    }

    // ---- lazy loading

    #[test]
    fn lazy_anon() {
        let want = Out::begin("lazy-anon")
            .msgs(&[
                "no page of the array is loaded",
                "reading a page loads that page and no other",
                "writing a page loads that page and no other",
                "the written byte reads back and every other byte is zero",
                "reading the whole array loads every page",
            ])
            .end();
        check("lazy-anon", &light(), want);
    }

    #[test]
    fn lazy_file() {
        let want = Out::begin("lazy-file")
            .msgs(&[
                "no page of the initialized data is loaded",
                "reading a data page loads that page, from the executable",
                "reading another loads that one too",
                "create \"lazy.dat\"",
                "open \"lazy.dat\"",
                "mmap \"lazy.dat\"",
                "no page of the mapping is loaded",
                "reading a mapped page loads that page, from the file",
                "reading two more loads those two",
                "munmap \"lazy.dat\"",
                "after munmap no page of the range is mapped",
            ])
            .end();
        check("lazy-file", &light(), want);
    }

    // ---- eviction and swap of anonymous pages

    #[test]
    fn page_linear() {
        if skip_heavy() {
            return;
        }
        let want = Out::begin("page-linear")
            .msgs(&[
                "initialize",
                "read pass",
                "part of the array is in swap",
                "read/modify/write pass one",
                "read/modify/write pass two",
                "read pass",
            ])
            .end();
        check("page-linear", &pressure("2M", "16M"), want);
    }

    #[test]
    fn page_shuffle() {
        if skip_heavy() {
            return;
        }
        let mut want = Out::begin("page-shuffle");
        for line in shuffle_lines(vmtest::PAGE_SHUFFLE_SIZE, vmtest::PAGE_SHUFFLE_SEED) {
            want = want.msg(line);
        }
        check("page-shuffle", &pressure("2M", "16M"), want.end());
    }

    #[test]
    fn page_parallel() {
        if skip_heavy() {
            return;
        }
        let mut want = Out::begin("page-parallel");
        for i in 0..4 {
            want = want.msg(format!("exec \"child-linear {i}\""));
        }
        for i in 0..4 {
            want = want.msg(format!("wait for child {i}"));
        }
        check_ignoring_exits("page-parallel", &pressure("2M", "32M"), want.end());
    }

    /// The output of a `page-merge-*` program: `sequential` children print
    /// their exit lines between the parent's messages.
    fn merge_output(name: &str, child: &str, status: i32, sequential: bool) -> Expected {
        const CHUNKS: usize = 8;
        let mut want = Out::begin(name).msg("init");
        for i in 0..CHUNKS {
            want = want.msg(format!("sort chunk {i}"));
            if sequential {
                want = want.line(format!("{child}: exit({status})"));
            }
        }
        if !sequential {
            for i in 0..CHUNKS {
                want = want.msg(format!("wait for child {i}"));
            }
        }
        want.msgs(&["merge", "verify", "success, buf_idx=1048576"])
            .end()
    }

    #[test]
    fn page_merge_seq() {
        if skip_heavy() {
            return;
        }
        let want = merge_output("page-merge-seq", "child-sort", 123, true);
        check("page-merge-seq", &pressure("1M", "16M"), want);
    }

    #[test]
    fn page_merge_par() {
        if skip_heavy() {
            return;
        }
        let want = merge_output("page-merge-par", "child-sort", 123, false);
        check_ignoring_exits("page-merge-par", &pressure("1M", "16M"), want);
    }

    #[test]
    fn page_merge_stk() {
        if skip_heavy() {
            return;
        }
        let want = merge_output("page-merge-stk", "child-qsort", 72, false);
        check_ignoring_exits("page-merge-stk", &pressure("1M", "16M"), want);
    }

    #[test]
    fn page_merge_mm() {
        if skip_heavy() {
            return;
        }
        let want = merge_output("page-merge-mm", "child-qsort-mm", 80, false);
        check_ignoring_exits("page-merge-mm", &pressure("1M", "16M"), want);
    }

    // ---- mmap

    #[test]
    fn mmap_huge() {
        let want = Out::begin("mmap-huge")
            .msgs(&[
                "open \"sample.txt\"",
                "mmap of 256 GiB succeeds",
                "its first page holds the file",
                "a page 100 GiB in reads as zeros",
                "mmap past the end of user space is refused",
                "mmap of one page there still works",
                "it holds the file",
            ])
            .end();
        check("mmap-huge", &RunOpts::new().sample().timeout(TIMEOUT), want);
    }

    #[test]
    fn mmap_read() {
        let want = Out::begin("mmap-read")
            .msgs(&[
                "open \"sample.txt\"",
                "mmap \"sample.txt\"",
                "the mapping holds the file",
                "the rest of the page reads as zeros",
                "munmap \"sample.txt\"",
            ])
            .end();
        check("mmap-read", &light(), want);
    }

    #[test]
    fn mmap_write() {
        let want = Out::begin("mmap-write")
            .msgs(&[
                "create \"mapped.txt\"",
                "open \"mapped.txt\"",
                "mmap \"mapped.txt\"",
                "write sample text through the mapping",
                "munmap \"mapped.txt\"",
                "read \"mapped.txt\"",
                "compare read data against written data",
            ])
            .end();
        check("mmap-write", &light(), want);
    }

    #[test]
    fn mmap_close() {
        let want = Out::begin("mmap-close")
            .msgs(&[
                "open \"sample.txt\"",
                "mmap \"sample.txt\"",
                "close \"sample.txt\"",
                "the mapping still holds the file",
                "munmap \"sample.txt\"",
            ])
            .end();
        check("mmap-close", &light(), want);
    }

    #[test]
    fn mmap_remove() {
        let want = Out::begin("mmap-remove")
            .msgs(&[
                "open \"sample.txt\"",
                "mmap \"sample.txt\"",
                "close \"sample.txt\"",
                "remove \"sample.txt\"",
                "\"sample.txt\" can no longer be opened",
                "create \"another\"",
                "open \"another\"",
                "fill \"another\"",
                "the mapping still holds the removed file",
                "munmap \"sample.txt\"",
            ])
            .end();
        check("mmap-remove", &light(), want);
    }

    #[test]
    fn mmap_off() {
        let want = Out::begin("mmap-off")
            .msgs(&[
                "create \"offset.dat\"",
                "open \"offset.dat\"",
                "mmap two pages of \"offset.dat\" from offset 4096",
                "close \"offset.dat\"",
                "the mapping shows the file from offset 4096",
                "overwrite the first mapped page",
                "munmap \"offset.dat\"",
                "open \"offset.dat\" again",
                "only the page at offset 4096 changed in the file",
            ])
            .end();
        check("mmap-off", &light(), want);
    }

    #[test]
    fn mmap_overlap() {
        let want = Out::begin("mmap-overlap")
            .msgs(&[
                "open \"sample.txt\"",
                "mmap \"sample.txt\"",
                "a second mmap at the same address fails",
                "an mmap running into the mapping from below fails",
                "an mmap covering the mapping fails",
                "an mmap right after the mapping succeeds",
            ])
            .end();
        check("mmap-overlap", &light(), want);
    }

    #[test]
    fn mmap_twice() {
        let want = Out::begin("mmap-twice")
            .msgs(&[
                "open \"sample.txt\" once",
                "open \"sample.txt\" again",
                "mmap the first descriptor",
                "mmap the second descriptor",
                "mmap the second descriptor again",
                "every mapping holds the file",
                "the others survive munmap of one",
            ])
            .end();
        check("mmap-twice", &light(), want);
    }

    #[test]
    fn mmap_misalign() {
        let want = Out::begin("mmap-misalign")
            .msgs(&[
                "open \"sample.txt\"",
                "mmap at a misaligned address fails",
                "mmap at a misaligned offset fails",
                "mmap aligned succeeds",
            ])
            .end();
        check("mmap-misalign", &light(), want);
    }

    #[test]
    fn mmap_null() {
        let want = Out::begin("mmap-null")
            .msgs(&["open \"sample.txt\"", "mmap at address 0 fails"])
            .end();
        check("mmap-null", &light(), want);
    }

    #[test]
    fn mmap_zero() {
        let want = Out::begin("mmap-zero")
            .msgs(&[
                "open \"sample.txt\"",
                "mmap of length 0 fails",
                "nothing is mapped there",
            ])
            .end();
        check("mmap-zero", &light(), want);
    }

    #[test]
    fn mmap_kernel() {
        let want = Out::begin("mmap-kernel")
            .msgs(&[
                "open \"sample.txt\"",
                "mmap at the first kernel address fails",
                "mmap reaching from user into kernel space fails",
                "mmap over the kernel's direct map fails",
                "mmap over the kernel image fails",
                "mmap wrapping around the top of the address space fails",
                "mmap of a length that wraps around fails",
                "mmap in user space still succeeds",
            ])
            .end();
        check("mmap-kernel", &light(), want);
    }

    #[test]
    fn mmap_bad_fd() {
        let want = Out::begin("mmap-bad-fd")
            .msgs(&[
                "mmap of fd 0 (console input) fails",
                "mmap of fd 1 (console output) fails",
                "mmap of fds never opened fails",
                "mmap of negative fds fails",
                "open \"sample.txt\"",
                "mmap of a closed fd fails",
            ])
            .end();
        check("mmap-bad-fd", &light(), want);
    }

    #[test]
    fn mmap_over_code() {
        let want = Out::begin("mmap-over-code")
            .msgs(&[
                "open \"sample.txt\"",
                "mmap over the first page of the image fails",
                "mmap over this function's code fails",
                "mmap running into the code from below fails",
            ])
            .end();
        check("mmap-over-code", &light(), want);
    }

    #[test]
    fn mmap_over_data() {
        let want = Out::begin("mmap-over-data")
            .msgs(&[
                "open \"sample.txt\"",
                "mmap over a .data page not loaded yet fails",
                "mmap over a .bss page not loaded yet fails",
                "mmap over a loaded .data page fails",
                "mmap over a loaded .bss page fails",
            ])
            .end();
        check("mmap-over-data", &light(), want);
    }

    #[test]
    fn mmap_over_stk() {
        let want = Out::begin("mmap-over-stk")
            .msgs(&[
                "open \"sample.txt\"",
                "mmap over the current stack page fails",
                "mmap over the top stack page fails",
            ])
            .end();
        check("mmap-over-stk", &light(), want);
    }

    #[test]
    fn mmap_unmap() {
        let want = Out::begin("mmap-unmap")
            .msgs(&[
                "open \"sample.txt\"",
                "mmap \"sample.txt\"",
                "the mapping holds the file",
                "munmap \"sample.txt\"",
            ])
            .killed();
        check("mmap-unmap", &light(), want);
    }

    #[test]
    fn mmap_ro() {
        let want = Out::begin("mmap-ro")
            .msgs(&[
                "open \"sample.txt\"",
                "mmap \"sample.txt\" read-only",
                "the mapping holds the file",
            ])
            .killed();
        check("mmap-ro", &light(), want);
    }

    #[test]
    fn mmap_exit() {
        let child = "child-mm-wrt";
        let want = Out::begin("mmap-exit")
            .line(format!("({child}) begin"))
            .line(format!("({child}) create \"mapped.txt\""))
            .line(format!("({child}) open \"mapped.txt\""))
            .line(format!("({child}) mmap \"mapped.txt\""))
            .line(format!("({child}) write sample text through the mapping"))
            .line(format!("({child}) end"))
            .line(format!("{child}: exit(0)"))
            .msgs(&[
                "wait for child (should return 0)",
                "open \"mapped.txt\" for verification",
                "verified contents of \"mapped.txt\"",
            ])
            .end();
        check("mmap-exit", &light(), want);
    }

    #[test]
    fn mmap_clean() {
        let want = Out::begin("mmap-clean")
            .msgs(&[
                "open \"sample.txt\"",
                "mmap \"sample.txt\"",
                "the mapping holds the file",
                "write \"sample.txt\"",
                "munmap \"sample.txt\"",
                "seek \"sample.txt\"",
                "read \"sample.txt\"",
                "file change was retained after munmap",
            ])
            .end();
        check("mmap-clean", &light(), want);
    }

    #[test]
    fn mmap_inherit() {
        let want = Out::begin("mmap-inherit")
            .msgs(&[
                "open \"sample.txt\"",
                "mmap \"sample.txt\"",
                "the child sees the parent's mapping",
            ])
            .line("(child-inherit) begin")
            .line("child-inherit: exit(-1)")
            .msgs(&[
                "wait for child (should return -1)",
                "checking that mmap'd file still has same data",
            ])
            .end();
        check("mmap-inherit", &light(), want);
    }

    #[test]
    fn mmap_shuffle() {
        if skip_heavy() {
            return;
        }
        let lines = shuffle_lines(vmtest::MMAP_SHUFFLE_SIZE, vmtest::MMAP_SHUFFLE_SEED);
        let last = lines
            .last()
            .and_then(|l| l.split_once("cksum="))
            .map(|(_, sum)| sum.to_owned())
            .expect("a shuffle reports checksums");
        let mut want = Out::begin("mmap-shuffle").msgs(&[
            "create \"shuffle.dat\"",
            "open \"shuffle.dat\"",
            "mmap \"shuffle.dat\"",
        ]);
        for line in lines {
            want = want.msg(line);
        }
        let want = want
            .msg("munmap \"shuffle.dat\"")
            .msg(format!("file after munmap: cksum={last}"))
            .end();
        check("mmap-shuffle", &pressure("2M", "16M"), want);
    }

    /// What `mmap-persist` writes to a file of `PERSIST_SIZE` bytes with `seed`.
    fn persist_contents(seed: u64, size: usize) -> Vec<u8> {
        let mut data = vec![0u8; size];
        vmtest::fill_pattern(&mut data, seed, 0);
        data
    }

    #[test]
    fn mmap_persist_reaches_the_disk_image() {
        let dir = TempDir::new("mmap-persist");
        let image: PathBuf = dir.path().join("disk.img");
        let (file, exit_file, neighbor) = (
            vmtest::PERSIST_NAME,
            vmtest::PERSIST_EXIT_NAME,
            vmtest::PERSIST_NEIGHBOR_NAME,
        );
        let want = Out::begin("mmap-persist")
            .msg(format!("create \"{file}\""))
            .msg(format!("create \"{neighbor}\""))
            .msg(format!("fill \"{neighbor}\""))
            .msg(format!("open \"{file}\""))
            .msg(format!("wrote \"{file}\" through a mapping"))
            .msg(format!("munmap \"{file}\""))
            .msg(format!("read \"{file}\" back"))
            .msg(format!("\"{neighbor}\" is intact"))
            .msg(format!("create \"{exit_file}\""))
            .msg(format!("open \"{exit_file}\""))
            .msg(format!(
                "wrote \"{exit_file}\" through a mapping left in place at exit"
            ))
            .end();
        check(
            "mmap-persist",
            &RunOpts::new().disk(&image).timeout(TIMEOUT),
            want,
        );

        let fs = FsImage::open(&image).expect("the disk image opens after the run");
        let read = |name: &str| {
            fs.get(name)
                .unwrap_or_else(|e| panic!("cannot read {name}: {e:#}"))
                .unwrap_or_else(|| panic!("{name} is not in the disk image"))
        };
        let size = vmtest::PERSIST_SIZE;
        assert!(
            read(file) == persist_contents(vmtest::PERSIST_SEED, size),
            "{file} in the image does not hold what was written through the mapping"
        );
        assert!(
            read(exit_file) == persist_contents(vmtest::PERSIST_EXIT_SEED, size),
            "{exit_file} in the image does not hold what was written through the mapping"
        );
        assert!(
            read(neighbor) == persist_contents(vmtest::PERSIST_NEIGHBOR_SEED, PAGE),
            "{neighbor} in the image was overwritten (a tail past the end of a file was written back?)"
        );
    }

    // ---- swap

    #[test]
    fn swap_anon() {
        if skip_heavy() {
            return;
        }
        let want = Out::begin("swap-anon")
            .msgs(&[
                "write every page",
                "at least half of the array is in swap",
                "check every page",
                "check every page in reverse order",
            ])
            .end();
        check("swap-anon", &pressure("2M", "16M"), want);
    }

    #[test]
    fn swap_file() {
        if skip_heavy() {
            return;
        }
        let dir = TempDir::new("swap-file");
        let opts = pressure("2M", "16M").put(&large_file(&dir));
        let want = Out::begin("swap-file")
            .msgs(&[
                "open \"large.txt\"",
                "\"large.txt\" is 4 MiB",
                "mmap \"large.txt\"",
                "read every page",
                "read every page again",
                "rewrite every other page",
                "read every page",
                "munmap \"large.txt\"",
                "the file holds the rewritten pages",
            ])
            .end();
        check("swap-file", &opts, want);
    }

    #[test]
    fn swap_iter() {
        if skip_heavy() {
            return;
        }
        let dir = TempDir::new("swap-iter");
        let opts = pressure("2M", "16M").put(&large_file(&dir));
        let want = Out::begin("swap-iter")
            .msgs(&[
                "open \"large.txt\"",
                "mmap \"large.txt\"",
                "round 1: every page held what the last round left",
                "round 2: every page held what the last round left",
                "round 3: every page held what the last round left",
                "munmap \"large.txt\"",
                "the file holds the last stamps",
            ])
            .end();
        check("swap-iter", &opts, want);
    }

    #[test]
    fn swap_fork() {
        if skip_heavy() {
            return;
        }
        let mut want = Out::begin("swap-fork").msg("parent memory is ready");
        for i in 0..6 {
            want = want.msg(format!("child {i} checked and rewrote its own copy"));
        }
        let want = want.msg("parent memory is unchanged").end();
        check_ignoring_exits("swap-fork", &pressure("2M", "32M"), want);
    }

    #[test]
    fn swap_full() {
        if skip_heavy() {
            return;
        }
        // The out-of-memory line is the kernel's; the hog is the second process.
        let want = Out::begin("swap-full")
            .line("faultline: out of memory: killing hog (pid 2); swap 256/256 pages in use: a larger --swap or --user-mem gives more room")
            .line("hog: exit(-1)")
            .msgs(&["wait for the hog (should return -1)", "memory works again"])
            .end();
        check("swap-full", &pressure("1M", "1M"), want);
    }

    // ---- accounting

    #[test]
    fn vm_no_leak() {
        if skip_heavy() {
            return;
        }
        let mut want = Out::begin("vm-no-leak");
        for (kind, status) in [
            ("swapper", 0),
            ("killed", -1),
            ("mapper", 0),
            ("forker", 0),
            ("execer", 0x42),
        ] {
            if kind == "forker" {
                want = want.line("grandchild: exit(0)");
            }
            want = want
                .line(format!("{kind}: exit({status})"))
                .msg(format!("no frame or swap slot leaked by the {kind} child"));
        }
        check("vm-no-leak", &pressure("2M", "16M"), want.end());
    }
}
