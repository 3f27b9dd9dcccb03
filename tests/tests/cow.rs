//! Copy-on-write fork (issue 9): KAIST's `cow-simple` semantics, a process
//! too large to copy forking readers that fit only with sharing, shared
//! pages evicted and swapped back intact in every sharer while one of them
//! writes, and `exec` dropping the shares. Exact output, so a
//! `faultline: LEAK:` line fails any of them.
//!
//! Everything lives in module `cow`, so `cargo xtask test cow` selects the
//! group.

mod cow {
    use faultline_tests::{Expected, Filter, RunOpts, expect_one_of, skip_heavy};

    const TIMEOUT: u64 = 60;

    #[test]
    fn cow_simple() {
        let want = Expected::new(
            &[
                "(cow-simple) begin",
                "(cow-simple) check data consistency",
                "(cow-simple) two phys addrs should be the same.",
                "(cow-simple) check data change",
                "(cow-simple) two phys addrs should not be the same.",
                "(cow-simple) end",
                "child: exit(0)",
                "(cow-simple) two phys addrs should be the same.",
                "(cow-simple) check data consistency",
                "(cow-simple) end",
                "cow-simple: exit(0)",
            ],
            0,
        );
        let opts = RunOpts::new().timeout(TIMEOUT);
        expect_one_of("cow-simple", &opts, &[want], Filter::None);
    }

    /// 24 MiB and three readers in a 32 MiB user pool without swap.
    #[test]
    fn three_readers_fit_only_by_sharing() {
        if skip_heavy() {
            return;
        }
        let want = Expected::new(
            &[
                "(cow-readers) begin",
                "(cow-readers) fork reader 0",
                "(cow-readers) fork reader 1",
                "(cow-readers) fork reader 2",
                "(cow-readers) three readers saw all 24 MiB at the parent's pages",
                "(cow-readers) the parent's 24 MiB are intact",
                "alive: exit(42)",
                "(cow-readers) the kernel still works: file round trip and fork",
                "(cow-readers) end",
                "cow-readers: exit(0)",
            ],
            0,
        );
        let opts = RunOpts::new().user_mem("32M").timeout(TIMEOUT);
        expect_one_of("cow-readers", &opts, &[want], Filter::IgnoreExitCodes);
    }

    /// Shared pages in twice the user pool, with swap: evicted from every
    /// sharer, swapped back, copied on write and on swap-in.
    #[test]
    fn shared_pages_survive_swap_in_every_sharer() {
        if skip_heavy() {
            return;
        }
        let want = Expected::new(
            &[
                "(cow-swap) begin",
                "(cow-swap) the parent reads its own bytes while the child writes",
                "(cow-swap) the child reads its own bytes",
                "(cow-swap) the parent's bytes are intact at the end",
                "(cow-swap) end",
                "cow-swap: exit(0)",
            ],
            0,
        );
        let opts = RunOpts::new().user_mem("2M").swap("16M").timeout(TIMEOUT);
        expect_one_of("cow-swap", &opts, &[want], Filter::IgnoreExitCodes);
    }

    #[test]
    fn exec_drops_the_shares() {
        let want = Expected::new(
            &[
                "(cow-exec) begin",
                "(child-simple) run",
                "child: exit(81)",
                "(cow-exec) the child ran child-simple",
                "(cow-exec) the parent took every page back without a copy",
                "(cow-exec) end",
                "cow-exec: exit(0)",
            ],
            0,
        );
        let opts = RunOpts::new().timeout(TIMEOUT);
        expect_one_of("cow-exec", &opts, &[want], Filter::None);
    }
}
