//! Proof that the system still works, for the end of a bad-input test: a
//! fresh VM runs `fs-fork-ok`, a file round trip and a fork.

use crate::judge::expect;
use crate::opts::RunOpts;

/// Runs `fs-fork-ok` in a new VM and requires its whole, exact output and
/// status 0. Panics with a report otherwise.
pub fn still_works() {
    expect(
        "fs-fork-ok",
        &RunOpts::new(),
        &[
            "(fs-fork-ok) begin",
            "(fs-fork-ok) create \"ok.dat\"",
            "(fs-fork-ok) open \"ok.dat\"",
            "(fs-fork-ok) write 1000 bytes",
            "(fs-fork-ok) read them back",
            "(fs-fork-ok) the bytes match",
            "(fs-fork-ok) remove \"ok.dat\"",
            "child: exit(81)",
            "(fs-fork-ok) fork: the child's status is 81",
            "(fs-fork-ok) end",
            "fs-fork-ok: exit(0)",
        ],
        0,
    );
}
