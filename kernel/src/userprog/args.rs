//! Command-line splitting and the initial user stack of a new program.
//!
//! The layout follows docs/DESIGN.md ("User ABI") and Pintos argument
//! passing: from `USER_STACK` down, the argument strings (the last argument
//! highest), zero padding, `argv[argc] = NULL`, `argv[argc - 1]` ..
//! `argv[0]`, a pointer to `argv[0]`, `argc`, and a fake return address 0
//! where `rsp` points.
//!
//! Pure logic, unit-tested on the host.

use arrayvec::ArrayVec;

use abi::syscall::{ARGS_MAX, CMDLINE_MAX};

/// The arguments of a command line (never allocates).
pub type Args<'a> = ArrayVec<&'a [u8], ARGS_MAX>;

/// Size of the page the start-up stack is built in.
pub const STACK_PAGE_SIZE: usize = 4096;

/// Why a command line or argument list was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgsError {
    /// No program name: the command line is empty or all spaces.
    Empty,
    /// Longer than [`CMDLINE_MAX`] bytes.
    TooLong,
    /// More than [`ARGS_MAX`] arguments (the program name included).
    TooMany,
}

/// The program name of a command line (its first argument), after checking
/// the whole line as [`split`] does. Kept out of line so that the argument
/// table lives only while it runs: `exec` goes on to fault pages in, which
/// may evict and write to disk on the same kernel stack.
#[inline(never)]
pub fn program(cmdline: &[u8]) -> Result<&[u8], ArgsError> {
    split(cmdline).map(|args| args[0])
}

/// [`build_stack`] for the arguments of `cmdline`, out of line for the same
/// reason as [`program`].
#[inline(never)]
pub fn build_stack_for(
    cmdline: &[u8],
    stack_top: u64,
    page: &mut [u8; STACK_PAGE_SIZE],
) -> Result<StackLayout, ArgsError> {
    build_stack(&split(cmdline)?, stack_top, page)
}

/// Splits a command line into its arguments. Runs of spaces are one
/// separator; leading and trailing spaces are ignored.
pub fn split(cmdline: &[u8]) -> Result<Args<'_>, ArgsError> {
    if cmdline.len() > CMDLINE_MAX {
        return Err(ArgsError::TooLong);
    }
    let mut args = Args::new();
    for word in cmdline.split(|&byte| byte == b' ') {
        if word.is_empty() {
            continue;
        }
        if args.len() == ARGS_MAX {
            return Err(ArgsError::TooMany);
        }
        args.push(word);
    }
    if args.is_empty() {
        return Err(ArgsError::Empty);
    }
    Ok(args)
}

/// Where the start-up values ended up: the registers a new program starts
/// with (`rsp`; `rdi = argc`, `rsi = argv`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StackLayout {
    /// The user stack pointer, at the fake return address.
    pub rsp: u64,
    /// The number of arguments.
    pub argc: u64,
    /// The user address of `argv[0]`.
    pub argv: u64,
}

/// Lays out the initial user stack in `page`, which stands for the user
/// addresses `[stack_top - 4096, stack_top)` (`stack_top` page-aligned, in
/// practice `USER_STACK`), as the module documentation describes.
///
/// The padding below the strings makes their end a multiple of 8, plus 8 more
/// bytes when needed so that `rsp + 8` is a multiple of 16, as at the entry
/// of a called function: gcc-compiled `_start` functions rely on that for SSE
/// spills. Bytes of `page` below `rsp` are left as they were.
///
/// `args` must hold 1 to [`ARGS_MAX`] arguments whose lengths plus one NUL
/// each add up to at most `CMDLINE_MAX + 1` (what [`split`] can return); the
/// layout then always fits in the page.
pub fn build_stack(
    args: &[&[u8]],
    stack_top: u64,
    page: &mut [u8; STACK_PAGE_SIZE],
) -> Result<StackLayout, ArgsError> {
    if args.is_empty() {
        return Err(ArgsError::Empty);
    }
    if args.len() > ARGS_MAX {
        return Err(ArgsError::TooMany);
    }
    let strings = args
        .iter()
        .fold(0usize, |sum, arg| sum.saturating_add(arg.len() + 1));
    if strings > CMDLINE_MAX + 1 {
        return Err(ArgsError::TooLong);
    }

    let base = stack_top.wrapping_sub(STACK_PAGE_SIZE as u64);
    let address = |offset: usize| base.wrapping_add(offset as u64);

    // The strings, the last argument highest.
    let mut pointers = [0u64; ARGS_MAX];
    let mut top = STACK_PAGE_SIZE;
    for (index, arg) in args.iter().enumerate().rev() {
        top -= arg.len() + 1;
        page[top..top + arg.len()].copy_from_slice(arg);
        page[top + arg.len()] = 0;
        pointers[index] = address(top);
    }
    let strings_start = top;

    // Padding: to a multiple of 8, then so that rsp ends 8 past a multiple of 16.
    let argc = args.len();
    let words = argc + 4; // argv[0..=argc], &argv[0], argc, return address
    top -= (address(top) % 8) as usize;
    if (address(top) - 8 * words as u64) % 16 != 8 {
        top -= 8;
    }
    page[top..strings_start].fill(0);

    push(page, &mut top, 0); // argv[argc]
    for &pointer in pointers[..argc].iter().rev() {
        push(page, &mut top, pointer);
    }
    let argv = address(top);
    push(page, &mut top, argv);
    push(page, &mut top, argc as u64);
    push(page, &mut top, 0); // fake return address
    Ok(StackLayout {
        rsp: address(top),
        argc: argc as u64,
        argv,
    })
}

/// Stores `value` in the 8 bytes below `*top` and moves `*top` down to it.
fn push(page: &mut [u8; STACK_PAGE_SIZE], top: &mut usize, value: u64) {
    *top -= 8;
    page[*top..*top + 8].copy_from_slice(&value.to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use abi::layout::USER_STACK;
    use alloc::string::String;
    use alloc::vec;
    use alloc::vec::Vec;

    const BASE: u64 = USER_STACK - STACK_PAGE_SIZE as u64;

    fn word(page: &[u8; STACK_PAGE_SIZE], addr: u64) -> u64 {
        let offset = (addr - BASE) as usize;
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(&page[offset..offset + 8]);
        u64::from_le_bytes(bytes)
    }

    fn c_string(page: &[u8; STACK_PAGE_SIZE], addr: u64) -> Vec<u8> {
        let offset = (addr - BASE) as usize;
        let len = page[offset..].iter().position(|&b| b == 0).unwrap();
        page[offset..offset + len].to_vec()
    }

    /// Reads the arguments back the way a program's `_start` does.
    fn read_back(page: &[u8; STACK_PAGE_SIZE], layout: &StackLayout) -> Vec<Vec<u8>> {
        assert_eq!(word(page, layout.rsp), 0, "fake return address");
        assert_eq!(word(page, layout.rsp + 8), layout.argc);
        assert_eq!(word(page, layout.rsp + 16), layout.argv);
        assert_eq!(layout.argv, layout.rsp + 24);
        assert_eq!(layout.rsp % 16, 8, "rsp + 8 is 16-byte aligned");
        assert_eq!(word(page, layout.argv + 8 * layout.argc), 0, "argv[argc]");
        (0..layout.argc)
            .map(|i| c_string(page, word(page, layout.argv + 8 * i)))
            .collect()
    }

    #[test]
    fn splits_on_runs_of_spaces() {
        assert_eq!(
            split(b"/bin/ls -l foo bar").unwrap().as_slice(),
            vec![&b"/bin/ls"[..], b"-l", b"foo", b"bar"]
        );
        assert_eq!(
            split(b"  args-dbl-space two  spaces!  ")
                .unwrap()
                .as_slice(),
            vec![&b"args-dbl-space"[..], b"two", b"spaces!"]
        );
        assert_eq!(split(b"echo").unwrap().as_slice(), [&b"echo"[..]]);
    }

    #[test]
    fn split_limits() {
        assert_eq!(split(b""), Err(ArgsError::Empty));
        assert_eq!(split(b"     "), Err(ArgsError::Empty));

        let longest = [b'a'; CMDLINE_MAX];
        assert_eq!(split(&longest).unwrap().as_slice(), [&longest[..]]);
        let too_long = [b'a'; CMDLINE_MAX + 1];
        assert_eq!(split(&too_long), Err(ArgsError::TooLong));
        let spaces = [b' '; CMDLINE_MAX + 1];
        assert_eq!(split(&spaces), Err(ArgsError::TooLong));

        let most = "x ".repeat(ARGS_MAX);
        assert_eq!(split(most.as_bytes()).unwrap().len(), ARGS_MAX);
        let too_many = "x ".repeat(ARGS_MAX + 1);
        assert_eq!(split(too_many.as_bytes()), Err(ArgsError::TooMany));
    }

    #[test]
    fn the_pintos_example_byte_for_byte() {
        let mut page = [0xaa; STACK_PAGE_SIZE];
        let args = split(b"/bin/ls -l foo bar").unwrap();
        let layout = build_stack(&args, USER_STACK, &mut page).unwrap();
        assert_eq!(
            layout,
            StackLayout {
                rsp: 0x4747_ffa8,
                argc: 4,
                argv: 0x4747_ffc0,
            }
        );

        let mut expected = Vec::new();
        for value in [
            0u64,        // 0x4747ffa8: fake return address
            4,           // 0x4747ffb0: argc
            0x4747_ffc0, // 0x4747ffb8: argv
            0x4747_ffed, // 0x4747ffc0: argv[0]
            0x4747_fff5, // 0x4747ffc8: argv[1]
            0x4747_fff8, // 0x4747ffd0: argv[2]
            0x4747_fffc, // 0x4747ffd8: argv[3]
            0,           // 0x4747ffe0: argv[4]
        ] {
            expected.extend_from_slice(&value.to_le_bytes());
        }
        expected.extend_from_slice(&[0; 5]); // 0x4747ffe8: padding
        expected.extend_from_slice(b"/bin/ls\0-l\0foo\0bar\0"); // from 0x4747ffed
        assert_eq!(expected.len(), 0x58);
        assert_eq!(&page[0xfa8..], &expected[..]);
        assert!(
            page[..0xfa8].iter().all(|&b| b == 0xaa),
            "below rsp untouched"
        );
    }

    #[test]
    fn pads_so_that_rsp_plus_8_is_16_byte_aligned() {
        let mut page = [0xaa; STACK_PAGE_SIZE];
        let layout = build_stack(&[b"echo"], USER_STACK, &mut page).unwrap();
        // "echo\0" at 0x4747fffb, 3 bytes to 0x4747fff8, 8 more to 0x4747fff0,
        // then five words.
        assert_eq!(
            layout,
            StackLayout {
                rsp: 0x4747_ffc8,
                argc: 1,
                argv: 0x4747_ffe0,
            }
        );
        let mut expected = Vec::new();
        for value in [0u64, 1, 0x4747_ffe0, 0x4747_fffb, 0] {
            expected.extend_from_slice(&value.to_le_bytes());
        }
        expected.extend_from_slice(&[0; 11]);
        expected.extend_from_slice(b"echo\0");
        assert_eq!(&page[0xfc8..], &expected[..]);
        assert!(page[..0xfc8].iter().all(|&b| b == 0xaa));
    }

    #[test]
    fn double_spaces_do_not_make_empty_arguments() {
        let mut page = [0; STACK_PAGE_SIZE];
        let args = split(b"args-dbl-space two  spaces!").unwrap();
        let layout = build_stack(&args, USER_STACK, &mut page).unwrap();
        assert_eq!(
            read_back(&page, &layout),
            vec![
                b"args-dbl-space".to_vec(),
                b"two".to_vec(),
                b"spaces!".to_vec()
            ]
        );
    }

    #[test]
    fn every_argument_count_and_length_reads_back() {
        for argc in 1..=9usize {
            for len in 0..=17usize {
                let args_owned: Vec<String> = (0..argc)
                    .map(|i| core::iter::repeat_n(char::from(b'a' + i as u8), len + i).collect())
                    .collect();
                let args: Vec<&[u8]> = args_owned.iter().map(|a| a.as_bytes()).collect();
                let mut page = [0x55; STACK_PAGE_SIZE];
                let layout = build_stack(&args, USER_STACK, &mut page).unwrap();
                assert_eq!(layout.argc, argc as u64);
                let back = read_back(&page, &layout);
                assert_eq!(back, args.iter().map(|a| a.to_vec()).collect::<Vec<_>>());
                // Strings are packed from the top, the last argument highest.
                let last = word(&page, layout.argv + 8 * (argc as u64 - 1));
                assert_eq!(last + args[argc - 1].len() as u64 + 1, USER_STACK);
            }
        }
    }

    #[test]
    fn the_largest_command_lines_fit() {
        // 128 one-byte arguments: 255 bytes of command line.
        let many = "x ".repeat(ARGS_MAX);
        let args = split(many.as_bytes()).unwrap();
        let mut page = [0; STACK_PAGE_SIZE];
        let layout = build_stack(&args, USER_STACK, &mut page).unwrap();
        assert_eq!(read_back(&page, &layout).len(), ARGS_MAX);

        // One argument of the longest command line.
        let long = [b'z'; CMDLINE_MAX];
        let mut page = [0; STACK_PAGE_SIZE];
        let layout = build_stack(&[&long], USER_STACK, &mut page).unwrap();
        assert_eq!(read_back(&page, &layout), vec![long.to_vec()]);

        // 128 arguments filling the longest command line.
        let args: Vec<Vec<u8>> = (0..ARGS_MAX)
            .map(|i| {
                vec![
                    b'q';
                    if i == 0 {
                        CMDLINE_MAX - 2 * (ARGS_MAX - 1)
                    } else {
                        1
                    }
                ]
            })
            .collect();
        let refs: Vec<&[u8]> = args.iter().map(|a| &a[..]).collect();
        let mut page = [0; STACK_PAGE_SIZE];
        let layout = build_stack(&refs, USER_STACK, &mut page).unwrap();
        assert_eq!(read_back(&page, &layout), args);
    }

    #[test]
    fn build_stack_limits() {
        let mut page = [0; STACK_PAGE_SIZE];
        assert_eq!(
            build_stack(&[], USER_STACK, &mut page),
            Err(ArgsError::Empty)
        );
        let many = vec![&b"x"[..]; ARGS_MAX + 1];
        assert_eq!(
            build_stack(&many, USER_STACK, &mut page),
            Err(ArgsError::TooMany)
        );
        let long = [b'z'; CMDLINE_MAX + 1];
        assert_eq!(
            build_stack(&[&long], USER_STACK, &mut page),
            Err(ArgsError::TooLong)
        );
        let halves = [b'z'; CMDLINE_MAX / 2];
        assert_eq!(
            build_stack(&[&halves, &halves], USER_STACK, &mut page),
            Err(ArgsError::TooLong)
        );
    }
}
