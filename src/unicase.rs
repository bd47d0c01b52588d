//! Unicode lowercase and the character classes the crate's messages need, each exactly what the standard
//! library's `char` methods give, without their tables: the WebAssembly module carries a 184-run table here
//! instead of `core`'s 1,462-pair one (benches/README.md, "Size, seventh pass"). Tested against `char` for
//! every code point.

/// The code points that lowercase to one other char, as runs: `(start << 8 | (count - 1) << 1 | stride - 1,
/// delta)`, where the run is `count` code points from `start`, `stride` (1 or 2) apart, each lowercasing to
/// itself plus `delta`. Sorted by start. Generated from the standard library by the test
/// `unicase::tests::lower_table_is_generated_from_std`, which prints the table when it differs (after a Rust
/// release with a new Unicode version: `cargo test --lib lower_table_is_generated -- --nocapture`, then paste).
#[rustfmt::skip]
const LOWER: [(u32, i32); 184] = [
    (0xc02c, 32), (0xd80c, 32), (0x1002f, 1), (0x13205, 1), (0x1390f, 1), (0x14a2d, 1), (0x17800, -121),
    (0x17905, 1), (0x18100, 210), (0x18203, 1), (0x18600, 206), (0x18700, 1), (0x18902, 205), (0x18b00, 1),
    (0x18e00, 79), (0x18f00, 202), (0x19000, 203), (0x19100, 1), (0x19300, 205), (0x19400, 207), (0x19600, 211),
    (0x19700, 209), (0x19800, 1), (0x19c00, 211), (0x19d00, 213), (0x19f00, 214), (0x1a005, 1), (0x1a600, 218),
    (0x1a700, 1), (0x1a900, 218), (0x1ac00, 1), (0x1ae00, 218), (0x1af00, 1), (0x1b102, 217), (0x1b303, 1),
    (0x1b700, 219), (0x1b800, 1), (0x1bc00, 1), (0x1c400, 2), (0x1c500, 1), (0x1c700, 2), (0x1c800, 1),
    (0x1ca00, 2), (0x1cb11, 1), (0x1de11, 1), (0x1f100, 2), (0x1f203, 1), (0x1f600, -97), (0x1f700, -56),
    (0x1f827, 1), (0x22000, -130), (0x22211, 1), (0x23a00, 10795), (0x23b00, 1), (0x23d00, -163), (0x23e00, 10792),
    (0x24100, 1), (0x24300, -195), (0x24400, 69), (0x24500, 71), (0x24609, 1), (0x37003, 1), (0x37600, 1),
    (0x37f00, 116), (0x38600, 38), (0x38804, 37), (0x38c00, 64), (0x38e02, 63), (0x39120, 32), (0x3a310, 32),
    (0x3cf00, 8), (0x3d817, 1), (0x3f400, -60), (0x3f700, 1), (0x3f900, -7), (0x3fa00, 1), (0x3fd04, -130),
    (0x4001e, 80), (0x4103e, 32), (0x46021, 1), (0x48a35, 1), (0x4c000, 15), (0x4c10d, 1), (0x4d05f, 1),
    (0x5314a, 48), (0x10a04a, 7264), (0x10c700, 7264), (0x10cd00, 7264), (0x13a09e, 38864), (0x13f00a, 8),
    (0x1c8900, 1), (0x1c9054, -3008), (0x1cbd04, -3008), (0x1e0095, 1), (0x1e9e00, -7615), (0x1ea05f, 1),
    (0x1f080e, -8), (0x1f180a, -8), (0x1f280e, -8), (0x1f380e, -8), (0x1f480a, -8), (0x1f5907, -8), (0x1f680e, -8),
    (0x1f880e, -8), (0x1f980e, -8), (0x1fa80e, -8), (0x1fb802, -8), (0x1fba02, -74), (0x1fbc00, -9),
    (0x1fc806, -86), (0x1fcc00, -9), (0x1fd802, -8), (0x1fda02, -100), (0x1fe802, -8), (0x1fea02, -112),
    (0x1fec00, -7), (0x1ff802, -128), (0x1ffa02, -126), (0x1ffc00, -9), (0x212600, -7517), (0x212a00, -8383),
    (0x212b00, -8262), (0x213200, 28), (0x21601e, 16), (0x218300, 1), (0x24b632, 26), (0x2c005e, 48), (0x2c6000, 1),
    (0x2c6200, -10743), (0x2c6300, -3814), (0x2c6400, -10727), (0x2c6705, 1), (0x2c6d00, -10780),
    (0x2c6e00, -10749), (0x2c6f00, -10783), (0x2c7000, -10782), (0x2c7200, 1), (0x2c7500, 1), (0x2c7e02, -10815),
    (0x2c8063, 1), (0x2ceb03, 1), (0x2cf200, 1), (0xa6402d, 1), (0xa6801b, 1), (0xa7220d, 1), (0xa7323d, 1),
    (0xa77903, 1), (0xa77d00, -35332), (0xa77e09, 1), (0xa78b00, 1), (0xa78d00, -42280), (0xa79003, 1),
    (0xa79613, 1), (0xa7aa00, -42308), (0xa7ab00, -42319), (0xa7ac00, -42315), (0xa7ad00, -42305),
    (0xa7ae00, -42308), (0xa7b000, -42258), (0xa7b100, -42282), (0xa7b200, -42261), (0xa7b300, 928), (0xa7b40f, 1),
    (0xa7c400, -48), (0xa7c500, -42307), (0xa7c600, -35384), (0xa7c703, 1), (0xa7cb00, -42343), (0xa7cc0f, 1),
    (0xa7dc00, -42561), (0xa7f500, 1), (0xff2132, 32), (0x104004e, 40), (0x104b046, 40), (0x1057014, 39),
    (0x1057c1c, 39), (0x1058c0c, 39), (0x1059402, 39), (0x10c8064, 64), (0x10d502a, 32), (0x118a03e, 32),
    (0x16e403e, 32), (0x16ea030, 27), (0x1e90042, 34),
];

/// `c`'s lowercase, as `char::to_lowercase` gives it: one char, or two for U+0130 (`i` and U+0307).
pub(crate) fn lower(
    c: char,
) -> core::iter::Chain<core::iter::Once<char>, core::option::IntoIter<char>> {
    let (one, two) = lower_pair(c);
    core::iter::once(one).chain(two)
}

#[inline]
fn lower_pair(c: char) -> (char, Option<char>) {
    if c.is_ascii() {
        return (c.to_ascii_lowercase(), None);
    }
    if c == '\u{130}' {
        return ('i', Some('\u{307}'));
    }
    let u = u32::from(c);
    let i = LOWER.partition_point(|&(k, _)| k >> 8 <= u);
    let Some(&(k, delta)) = i.checked_sub(1).and_then(|i| LOWER.get(i)) else {
        return (c, None);
    };
    let (start, count, stride) = (k >> 8, (k >> 1 & 0x7f) + 1, (k & 1) + 1);
    let off = u - start;
    if off % stride != 0 || off / stride >= count {
        return (c, None);
    }
    let l = u.checked_add_signed(delta).and_then(char::from_u32);
    (l.unwrap_or(c), None)
}

/// `char::is_whitespace`: Unicode's White_Space, 25 code points.
pub(crate) fn is_whitespace(c: char) -> bool {
    matches!(
        c,
        '\t'..='\r'
            | ' '
            | '\u{85}'
            | '\u{a0}'
            | '\u{1680}'
            | '\u{2000}'..='\u{200a}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{202f}'
            | '\u{205f}'
            | '\u{3000}'
    )
}

/// `char::is_control`: the general category Cc.
pub(crate) fn is_control(c: char) -> bool {
    matches!(c, '\0'..='\x1f' | '\x7f'..='\u{9f}')
}

/// `text` as `str::escape_debug` writes it, for a message, without the standard library's tables of printable and
/// grapheme-extending characters (about 4.4 KB of the WebAssembly module, gzipped: benches/README.md, "Size, seventh
/// pass"). ASCII exactly as `escape_debug`: `\0 \t \r \n \\ \' \"` and `\u{..}` for the other controls. A non-ASCII
/// character is written `\u{..}` when it is a control, a space, a format or invisible character (U+00AD,
/// U+200B-U+200F, U+202A-U+202E, U+2060-U+206F, U+FEFF, U+FFF9-U+FFFB), private use or a noncharacter, and, as the
/// first character, a combining mark of U+0300-U+036F; `escape_debug` escapes all of these too, and also unassigned
/// code points and rarer format characters and marks, which are shown as themselves here.
pub(crate) fn escaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, c) in text.chars().enumerate() {
        match c {
            '\0' => out.push_str("\\0"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\n' => out.push_str("\\n"),
            '\\' | '\'' | '"' => {
                out.push('\\');
                out.push(c);
            }
            c if hidden(c) || (i == 0 && ('\u{300}'..='\u{36f}').contains(&c)) => {
                out.push_str("\\u{");
                let n = u32::from(c);
                let digits = (32 - (n | 1).leading_zeros()).div_ceil(4);
                for k in (0..digits).rev() {
                    out.push(char::from_digit((n >> (4 * k)) & 0xf, 16).unwrap_or('0'));
                }
                out.push('}');
            }
            c => out.push(c),
        }
    }
    out
}

/// Whether [`escaped`] writes `c` as a code point (past the first character).
fn hidden(c: char) -> bool {
    let n = u32::from(c);
    is_control(c)
        || (n > 0x7f && is_whitespace(c))
        || matches!(
            n,
            0xad | 0x200b..=0x200f
                | 0x202a..=0x202e
                | 0x2060..=0x206f
                | 0xfeff
                | 0xfff9..=0xfffb
                | 0xe000..=0xf8ff
                | 0xfdd0..=0xfdef
                | 0xf0000..
        )
        || n & 0xfffe == 0xfffe
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every code point lowercases as `char::to_lowercase` does.
    #[test]
    fn lower_is_std_s_for_every_char() {
        for c in (0..=0x10ffff).filter_map(char::from_u32) {
            assert!(lower(c).eq(c.to_lowercase()), "U+{:04X}", u32::from(c));
        }
    }

    /// The table is what the generator makes of the standard library now; prints the new table when not.
    #[test]
    fn lower_table_is_generated_from_std() {
        let mut single = Vec::new();
        for c in (0x80..=0x10ffff).filter_map(char::from_u32) {
            let mut l = c.to_lowercase();
            if let (Some(a), None) = (l.next(), l.next())
                && a != c
            {
                single.push((
                    u32::from(c),
                    i64::from(u32::from(a)) - i64::from(u32::from(c)),
                ));
            }
        }
        // Greedy runs: from each entry, the longer of the stride-1 and stride-2 runs of one delta (at most 128).
        let mut runs = Vec::new();
        let mut i = 0;
        while i < single.len() {
            let (start, delta) = single[i];
            let (mut stride, mut count) = (1, 1);
            for st in [1u32, 2] {
                let mut n = 1;
                while n < 128 && single.get(i + n) == Some(&(start + st * n as u32, delta)) {
                    n += 1;
                }
                if n > count {
                    (stride, count) = (st, n);
                }
            }
            runs.push((
                start << 8 | (count as u32 - 1) << 1 | (stride - 1),
                delta as i32,
            ));
            i += count;
        }
        if runs != LOWER {
            let rows: Vec<String> = runs
                .iter()
                .map(|(k, d)| format!("(0x{k:x}, {d})"))
                .collect();
            println!(
                "const LOWER: [(u32, i32); {}] = [\n    {}\n];",
                runs.len(),
                rows.join(", ")
            );
        }
        assert_eq!(
            runs, LOWER,
            "the table differs from the generator's: paste the printed one"
        );
    }

    /// The two predicates are `char`'s for every code point.
    #[test]
    fn whitespace_and_control_are_std_s_for_every_char() {
        for c in (0..=0x10ffff).filter_map(char::from_u32) {
            assert_eq!(
                is_whitespace(c),
                c.is_whitespace(),
                "U+{:04X}",
                u32::from(c)
            );
            assert_eq!(is_control(c), c.is_control(), "U+{:04X}", u32::from(c));
        }
    }

    /// `escaped` is `escape_debug` for every ASCII text of one or two characters and for common non-ASCII text,
    /// and never escapes what `escape_debug` shows; what it shows that `escape_debug` escapes is none of the
    /// classes it names.
    #[test]
    fn escaped_is_escape_debug_but_for_rare_code_points() {
        for a in 0..128u8 {
            for b in 0..128u8 {
                let t: String = [char::from(a), char::from(b)].into_iter().collect();
                assert_eq!(escaped(&t), t.escape_debug().to_string(), "{a} {b}");
            }
        }
        for t in [
            "s3:GetObject é ü ß — “quoted” … 日本語 😀 ＳＴＳ",
            "\u{301}x, x\u{301}",
            "a\u{a0}b\u{200b}c\u{feff}d\u{2028}e\u{85}f\u{ad}g\u{e000}h\u{fffe}i\u{10ffff}",
            "arn:aws:iam::111122223333:role/Ünïcödé",
        ] {
            assert_eq!(escaped(t), t.escape_debug().to_string(), "{t}");
        }
        let mut shown_by_us_only = 0;
        for c in (0x80..=0x10ffff).filter_map(char::from_u32) {
            let t: String = ['x', c].into_iter().collect();
            let std = t.escape_debug().to_string();
            let ours = escaped(&t);
            if ours != std {
                assert!(!hidden(c), "U+{:04X}", u32::from(c));
                assert_eq!(ours, t, "U+{:04X}", u32::from(c));
                shown_by_us_only += 1;
            }
        }
        // Unassigned code points (most of the planes above the first) and rarer format characters and marks:
        // 814,803 with Rust 1.95's Unicode tables.
        assert!(shown_by_us_only < 850_000, "{shown_by_us_only}");
    }
}
