//! The clock (second-chance) hand over the frame table: pure victim selection,
//! given per-frame "can be evicted" and "was accessed" answers.

/// What the clock learns about a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Look {
    /// Free or pinned: skip.
    Skip,
    /// In use and accessed since the last pass: clear the bit, give a second chance.
    Accessed,
    /// In use and not accessed: the victim.
    Idle,
}

/// Advances `hand` over `n` frames, calling `look(i)` (which clears the
/// accessed bit when it answers `Accessed`), and returns the first idle frame.
/// Gives up after two full turns (every candidate pinned or skipped).
pub fn select(hand: &mut usize, n: usize, mut look: impl FnMut(usize) -> Look) -> Option<usize> {
    if n == 0 {
        return None;
    }
    for _ in 0..2 * n + 1 {
        let i = *hand % n;
        *hand = (i + 1) % n;
        if look(i) == Look::Idle {
            return Some(i);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_chance() {
        // Frames 0..4: 0 pinned, 1 accessed, 2 accessed, 3 idle.
        let mut accessed = [false, true, true, false];
        let mut hand = 0;
        let v = select(&mut hand, 4, |i| match i {
            0 => Look::Skip,
            i if accessed[i] => {
                accessed[i] = false;
                Look::Accessed
            }
            _ => Look::Idle,
        });
        assert_eq!(v, Some(3));
        assert_eq!(hand, 0, "the hand stops after the victim");
        assert_eq!(accessed, [false; 4], "second chances were used up");
        // Next time, frame 1 (now not accessed) is chosen.
        let v = select(
            &mut hand,
            4,
            |i| if i == 0 { Look::Skip } else { Look::Idle },
        );
        assert_eq!(v, Some(1));
    }

    #[test]
    fn all_pinned_gives_up() {
        let mut hand = 2;
        let mut calls = 0;
        assert_eq!(
            select(&mut hand, 3, |_| {
                calls += 1;
                Look::Skip
            }),
            None
        );
        assert_eq!(calls, 7);
    }

    #[test]
    fn every_frame_accessed_still_finds_one() {
        let mut acc = [true; 5];
        let mut hand = 0;
        let v = select(&mut hand, 5, |i| {
            if core::mem::take(&mut acc[i]) {
                Look::Accessed
            } else {
                Look::Idle
            }
        });
        assert_eq!(v, Some(0));
    }
}
