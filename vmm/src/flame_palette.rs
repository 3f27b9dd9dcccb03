//! The flamegraph's colours: kernel frames in warm orange-red tones, user
//! frames in blue ones, markers (`[truncated: ...]`, `[trap entry]`,
//! `[unknown]`) grey. Within a hue the shade is a hash of the frame name, so
//! neighbouring frames stay distinguishable and a name keeps its colour from
//! one graph to the next.

use std::collections::BTreeMap;

use inferno::flamegraph::color::{Color, PaletteMap};

/// Which side of the guest a frame belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Class {
    /// Kernel code (upper-half addresses) and kernel-thread roots.
    Kernel,
    /// User code and user-program roots.
    User,
    /// Not code: what the walker says about a stack it could not complete.
    Marker,
}

/// What the legend says (for the flamegraph's subtitle).
pub const LEGEND: &str = "orange: kernel, blue: user, grey: markers";

/// The colour of frame `name` of class `class`.
pub fn color(name: &str, class: Class) -> Color {
    // FNV-1a: stable across runs and machines.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    let v = |shift: u32, span: u8| ((h >> shift) & 0xff) as u8 % span.max(1);
    match class {
        Class::Kernel => Color {
            r: 215 + v(0, 40),
            g: 80 + v(8, 90),
            b: 20 + v(16, 40),
        },
        Class::User => Color {
            r: 60 + v(0, 60),
            g: 130 + v(8, 70),
            b: 205 + v(16, 50),
        },
        Class::Marker => {
            let g = 170 + v(0, 30);
            Color { r: g, g, b: g }
        }
    }
}

/// A palette map that gives every frame in `classes` its class's colour.
pub fn palette(classes: &BTreeMap<String, Class>) -> PaletteMap {
    let mut map = PaletteMap::default();
    for (name, &class) in classes {
        map.insert(name, color(name, class));
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hue(c: Color) -> Class {
        if c.r == c.g && c.g == c.b {
            Class::Marker
        } else if c.r > c.b {
            Class::Kernel
        } else {
            Class::User
        }
    }

    #[test]
    fn classes_have_their_own_hues_and_names_their_own_shades() {
        for name in [
            "a",
            "kernel::vm::fault",
            "main",
            "[truncated: 128 frames]",
            "",
        ] {
            for class in [Class::Kernel, Class::User, Class::Marker] {
                assert_eq!(hue(color(name, class)), class, "{name} {class:?}");
                assert_eq!(color(name, class), color(name, class));
            }
        }
        assert_ne!(color("a", Class::Kernel), color("b", Class::Kernel));
        let mut classes = BTreeMap::new();
        classes.insert("f".to_string(), Class::User);
        classes.insert("[trap entry]".to_string(), Class::Marker);
        let map = palette(&classes);
        assert_eq!(map.get("f"), Some(color("f", Class::User)));
        assert_eq!(map.get("[trap entry]").map(hue), Some(Class::Marker));
        assert_eq!(map.get("g"), None);
    }
}
