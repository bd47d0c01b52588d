//! Byte helpers for keys and texts: a case-blind hash and word-at-a-time comparisons, eight bytes at a time.
//!
//! Dependencies: this module depends on nothing else in the crate. `policy` (ARN and wildcard matching, action
//! names) and `context` (whose key lookup forms, `KeyText`, `Folded` and `Shape`, are built on them, and which
//! re-exports them to `compile` and `decide`) depend on it; they used to live in context.rs, which made `policy`
//! and `context` import each other.

/// Whether `text` holds `${` (where a policy variable would start): a scan for `$` and a look at the byte after
/// it, which for the short texts of a policy costs a fraction of `str::contains("${")`'s searcher.
#[inline]
pub(crate) fn has_variable(text: &str) -> bool {
    let b = text.as_bytes();
    let mut at = 0;
    while let Some(k) = b.get(at..).and_then(|r| r.iter().position(|&c| c == b'$')) {
        at += k + 1;
        if b.get(at) == Some(&b'{') {
            return true;
        }
    }
    false
}

/// Byte tests on a little-endian word of eight bytes: each gives the high bit of every byte that passes, exactly
/// (no carry crosses a byte). Every byte looked for is ASCII, which in UTF-8 is always that character.
pub(crate) mod swar {
    /// The high bit of every byte.
    pub(crate) const HIGH: u64 = 0x8080_8080_8080_8080;
    /// One in every byte.
    pub(crate) const ONES: u64 = 0x0101_0101_0101_0101;
    /// The low seven bits of every byte.
    pub(crate) const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;

    /// Bytes equal to `c`: `(t & LOW7) + LOW7` cannot carry across bytes.
    #[inline(always)]
    pub(crate) fn eq(w: u64, c: u8) -> u64 {
        let t = w ^ (ONES * u64::from(c));
        !(((t & LOW7) + LOW7) | t | LOW7)
    }

    /// Bytes `lo` to `hi` (`lo` at least 1, both ASCII): ASCII and at least `lo` and not above `hi`.
    #[inline(always)]
    pub(crate) fn range(w: u64, lo: u8, hi: u8) -> u64 {
        let t = w & LOW7;
        let at_least = t + ONES * (0x80 - u64::from(lo));
        let above = t + ONES * (0x80 - u64::from(hi) - 1);
        at_least & !above & !w & HIGH
    }

    /// Bytes `A` to `Z`.
    #[inline(always)]
    pub(crate) fn upper(w: u64) -> u64 {
        range(w, b'A', b'Z')
    }

    /// The word of up to eight bytes of `b` from `at` (zero-padded) and the high bit of each byte of it that is
    /// `b`'s; `None` at the end.
    #[inline(always)]
    pub(crate) fn load(b: &[u8], at: usize) -> Option<(u64, u64)> {
        let rest = b.get(at..).filter(|r| !r.is_empty())?;
        Some(match rest.first_chunk::<8>() {
            Some(c) => (u64::from_le_bytes(*c), HIGH),
            None => {
                // 1 to 7 bytes: shifts of 8 to 56. The last eight bytes of `b` shifted down when it has eight.
                let n = rest.len();
                let w = match b.last_chunk::<8>() {
                    Some(c) => u64::from_le_bytes(*c) >> (8 * (8 - n)),
                    None => rest.iter().rev().fold(0, |w, &c| (w << 8) | u64::from(c)),
                };
                (w, HIGH & (u64::MAX >> (64 - 8 * n)))
            }
        })
    }
}

/// Whether every byte of `b` is ASCII and none is a line feed: then each byte is one character on one line. Eight
/// bytes at a time: for a word `x` and `v = x ^ (0x0A in every byte)`, `(v - ONES) & !v & HIGHS` is nonzero exactly
/// when some byte of `v` is zero (a line feed in `x`), and `x & HIGHS` when some byte is not ASCII.
#[inline]
pub(crate) fn ascii_one_line(b: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let bad = |x: u64| {
        let v = x ^ (ONES * u64::from(b'\n'));
        ((v.wrapping_sub(ONES) & !v) | x) & HIGHS != 0
    };
    let mut chunks = b.chunks_exact(8);
    for chunk in chunks.by_ref() {
        let Ok(word) = <[u8; 8]>::try_from(chunk) else {
            return false;
        };
        if bad(u64::from_le_bytes(word)) {
            return false;
        }
    }
    chunks
        .remainder()
        .iter()
        .all(|&c| c.is_ascii() && c != b'\n')
}

/// The byte position of the first `needle` in `hay`, as `str::find` with a `&str` pattern answers. Natively that
/// `find`; in WebAssembly a plain scan for the first byte and a comparison, so the module carries no two-way
/// searcher (about 3 KB) for the few short needles it looks for in short texts.
#[inline]
pub(crate) fn find(hay: &str, needle: &str) -> Option<usize> {
    #[cfg(not(target_arch = "wasm32"))]
    return hay.find(needle);
    #[cfg(target_arch = "wasm32")]
    return find_scan(hay.as_bytes(), needle.as_bytes());
}

/// [`find`]'s WebAssembly form: each position where `needle`'s first byte is, compared whole. A match starts at a
/// character boundary, since `needle` is UTF-8 and starts with a first byte.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
fn find_scan(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let Some(&first) = needle.first() else {
        return Some(0);
    };
    let mut at = 0;
    while let Some(k) = hay
        .get(at..)
        .and_then(|r| r.iter().position(|&c| c == first))
    {
        at += k;
        if hay.get(at..).is_some_and(|r| r.starts_with(needle)) {
            return Some(at);
        }
        at += 1;
    }
    None
}

/// A fixed (not randomised) hash of a key, the same in any ASCII case: every byte is ORed with `0x20` first,
/// which turns each capital into its lowercase letter and gives any other byte the same value whatever the
/// case of the text around it. Collisions (other bytes that differ only in `0x20`, such as `_` and DEL) cost
/// only a comparison: every hit is confirmed by comparing the texts.
#[inline]
pub(crate) fn key_hash(key: &[u8]) -> u64 {
    const FOLD: u64 = 0x2020_2020_2020_2020;
    hash_words(key, |w| w | FOLD)
}

/// The hash of the little-endian words of `key` (the last one zero-padded), each passed through `f`. Every byte
/// counts, and keys of one length whose words differ after `f` in one word only never share a 64-bit hash (each
/// step is a bijection of the state). Tables built on it bound their probes (`compile::MAX_PROBE`), so keys crafted to
/// collide cost a scan, never a quadratic build.
#[inline(always)]
fn hash_words(key: &[u8], f: impl Fn(u64) -> u64) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mut h = key.len() as u64;
    let mut rest = key;
    while let Some((c, tail)) = rest.split_first_chunk::<8>() {
        h = (h.rotate_left(29) ^ f(u64::from_le_bytes(*c))).wrapping_mul(K);
        rest = tail;
    }
    if !rest.is_empty() {
        h = (h.rotate_left(29) ^ f(tail_word(key))).wrapping_mul(K);
    }
    // The bucket index takes the low bits: fold the high ones, which the multiplications mixed, into them.
    h ^ (h >> 32)
}

/// The last `key.len() % 8` bytes of `key` as a zero-padded word: for a key of eight bytes or more, one load of
/// its last eight bytes, shifted.
#[inline(always)]
fn tail_word(key: &[u8]) -> u64 {
    let n = key.len();
    match last8(key) {
        Some(last) if n % 8 != 0 => u64::from_le_bytes(*last) >> (8 * (8 - n % 8)),
        Some(_) => 0,
        None => word(key),
    }
}

/// The last eight bytes of `b` (`b.last_chunk::<8>()`). In WebAssembly at `opt-level = "z"`, `last_chunk` stays a
/// call into a checked `split_at`, called a few dozen times per decision (a tenth of a decision's time in Node);
/// `get` and `first_chunk` are inlined.
#[inline(always)]
pub(crate) fn last8(b: &[u8]) -> Option<&[u8; 8]> {
    #[cfg(target_arch = "wasm32")]
    return last8_by_get(b);
    #[cfg(not(target_arch = "wasm32"))]
    return b.last_chunk::<8>();
}

/// [`last8`] through `get` (the WebAssembly form; tested natively against `last_chunk`).
#[inline(always)]
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
fn last8_by_get(b: &[u8]) -> Option<&[u8; 8]> {
    b.get(b.len().checked_sub(8)?..)?.first_chunk::<8>()
}

/// Each ASCII capital of the eight bytes of `w` lowercased; every other byte (non-ASCII included) unchanged.
#[inline(always)]
pub(crate) fn lower8(w: u64) -> u64 {
    // The high bit of each capital, moved to its 0x20 bit.
    w | (swar::upper(w) >> 2)
}

/// The little-endian word of up to eight bytes (missing bytes zero), without a variable-length copy: short
/// tails are read as two overlapping loads.
#[inline(always)]
pub(crate) fn word(b: &[u8]) -> u64 {
    let n = b.len();
    if let Ok(a) = <[u8; 8]>::try_from(b) {
        return u64::from_le_bytes(a);
    }
    let u32_at = |i: usize| {
        b.get(i..i + 4)
            .and_then(|s| <[u8; 4]>::try_from(s).ok())
            .map_or(0, |a| u64::from(u32::from_le_bytes(a)))
    };
    let byte = |i: usize| b.get(i).map_or(0, |&x| u64::from(x));
    match n {
        // The two loads overlap on bytes that are equal, so OR-ing them is exact.
        4..=7 => u32_at(0) | u32_at(n - 4) << (8 * (n - 4)),
        1..=3 => byte(0) | byte(n / 2) << (8 * (n / 2)) | byte(n - 1) << (8 * (n - 1)),
        _ => 0,
    }
}

/// Whether `raw` ASCII-lowercased is `lower`, eight bytes at a time.
#[inline]
pub(crate) fn eq_lower(raw: &[u8], lower: &[u8]) -> bool {
    eq_words(raw, lower, lower8)
}

/// Whether `a == b`, eight bytes at a time, inline (no call to `memcmp` for short keys).
#[inline]
pub(crate) fn eq_bytes(a: &[u8], b: &[u8]) -> bool {
    // In WebAssembly at `opt-level = "z"` the closures below stay calls: one loop over the words (`eq_words`)
    // costs fewer instructions there.
    #[cfg(target_arch = "wasm32")]
    return eq_words(a, b, |w| w);
    #[cfg(not(target_arch = "wasm32"))]
    {
        let n = a.len();
        if n != b.len() {
            return false;
        }
        // The word at `at` of both (`at + 8 <= n`).
        let same = |at: usize| {
            let w = |t: &[u8]| t.get(at..).and_then(|r| r.first_chunk::<8>().copied());
            w(a) == w(b)
        };
        // Up to 32 bytes: two or four loads each, overlapping; then a loop over the middle.
        match n {
            0..=7 => word(a) == word(b),
            8..=16 => same(0) && same(n - 8),
            17..=32 => same(0) && same(8) && same(n - 16) && same(n - 8),
            _ => {
                same(0)
                    && same(n - 8)
                    && eq_words(
                        a.get(8..n - 8).unwrap_or_default(),
                        b.get(8..n - 8).unwrap_or_default(),
                        |w| w,
                    )
            }
        }
    }
}

/// Whether `a` and `b` are equal in ASCII case, eight bytes at a time (as `eq_ignore_ascii_case`).
#[inline]
pub(crate) fn eq_ignore_ascii_case(a: &[u8], b: &[u8]) -> bool {
    eq_words_both(a, b, lower8, lower8)
}

/// Whether `a`, each word passed through `f`, is `b`.
#[inline(always)]
fn eq_words(a: &[u8], b: &[u8], f: impl Fn(u64) -> u64) -> bool {
    eq_words_both(a, b, f, |w| w)
}

/// Whether `a`'s words through `f` are `b`'s through `g`.
#[inline(always)]
fn eq_words_both(a: &[u8], b: &[u8], f: impl Fn(u64) -> u64, g: impl Fn(u64) -> u64) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let (whole_a, whole_b) = (a, b);
    let (mut a, mut b) = (a, b);
    while let (Some((x, at)), Some((y, bt))) =
        (a.split_first_chunk::<8>(), b.split_first_chunk::<8>())
    {
        if f(u64::from_le_bytes(*x)) != g(u64::from_le_bytes(*y)) {
            return false;
        }
        (a, b) = (at, bt);
    }
    a.is_empty() || f(tail_word(whole_a)) == g(tail_word(whole_b))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `ascii_one_line` is its definition (every byte ASCII, none a line feed) for every byte value at every
    /// place of texts up to 20 bytes, alone and with a later byte that would also answer.
    #[test]
    fn json7_ascii_one_line_is_its_definition() {
        let definition = |b: &[u8]| b.iter().all(|&c| c.is_ascii() && c != b'\n');
        for len in 0..=20usize {
            let plain = vec![b'a'; len];
            assert!(ascii_one_line(&plain));
            for at in 0..len {
                for v in 0..=255u8 {
                    let mut t = plain.clone();
                    if let Some(c) = t.get_mut(at) {
                        *c = v;
                    }
                    assert_eq!(ascii_one_line(&t), definition(&t), "{t:?}");
                    if let Some(c) = t.last_mut() {
                        *c = b'\n';
                    }
                    assert_eq!(ascii_one_line(&t), definition(&t), "{t:?}");
                }
            }
        }
    }

    /// `has_variable` is `contains("${")`, wherever the `$` and `{` fall and whatever precedes them.
    #[test]
    fn has_variable_is_contains_of_dollar_brace() {
        for t in [
            "",
            "$",
            "{",
            "${",
            "$}{",
            "a$b{c",
            "$${",
            "$ {",
            "x${y}",
            "é${",
            "$é{",
            "ab$",
            "${aws:username}",
            "arn:aws:s3:::b/$",
            "$$$$$${",
            "{$}",
        ] {
            assert_eq!(has_variable(t), t.contains("${"), "{t:?}");
        }
    }
    use crate::context::Shape;

    #[test]
    fn last8_by_get_is_last_chunk() {
        let b: Vec<u8> = (0..20).collect();
        for n in 0..=b.len() {
            let t = &b[..n];
            assert_eq!(last8_by_get(t), t.last_chunk::<8>(), "{n}");
        }
        assert_eq!(last8_by_get(&b), Some(&[12, 13, 14, 15, 16, 17, 18, 19]));
    }

    /// The word-at-a-time helpers agree with their byte-at-a-time definitions on every length from 0 to 40,
    /// ASCII letters of both cases, the bytes around `A`/`Z`/`a`/`z`, and non-ASCII bytes.
    #[test]
    fn word_helpers_agree_with_bytewise_definitions() {
        let alphabet: Vec<u8> = b"aZ@[`{AzQq:/-09\x7f"
            .iter()
            .copied()
            .chain([0x80, 0xc1, 0xc3, 0xa9, 0xff, 0xda])
            .collect();
        let mut next = crate::xorshift(0x2545_f491_4f6c_dd1d);
        for len in 0..=40 {
            for _ in 0..200 {
                let s: Vec<u8> = (0..len)
                    .map(|_| alphabet[next() as usize % alphabet.len()])
                    .collect();
                let lower = s.to_ascii_lowercase();
                assert_eq!(key_hash(&s), key_hash(&lower), "{s:?}");
                assert!(eq_lower(&s, &lower), "{s:?}");
                assert!(eq_ignore_ascii_case(&s, &lower) && eq_ignore_ascii_case(&lower, &s));
                let upper = s.to_ascii_uppercase();
                assert!(eq_ignore_ascii_case(&upper, &s), "{s:?}");
                assert!(eq_bytes(&lower, &lower));
                let w: u64 = s
                    .iter()
                    .take(8)
                    .enumerate()
                    .fold(0, |w, (i, &b)| w | u64::from(b) << (8 * i));
                if len <= 8 {
                    assert_eq!(word(&s), w, "{s:?}");
                }
                if let Some(i) = (len > 0).then(|| next() as usize % len) {
                    let mut t = lower.clone();
                    t[i] ^= 0x01;
                    assert!(!eq_lower(&s, &t), "{s:?} vs {t:?}");
                    assert!(!eq_bytes(&lower, &t));
                    assert_eq!(eq_ignore_ascii_case(&s, &t), s.eq_ignore_ascii_case(&t));
                    // A change of 0x20 is a change of case only on letters.
                    let mut u = s.clone();
                    u[i] ^= 0x20;
                    assert!(!eq_bytes(&s, &u) && eq_bytes(&u, &u.clone()));
                    // The WebAssembly form of `eq_bytes` (one word loop) agrees too.
                    for (x, y) in [(&lower, &t), (&s, &u), (&u, &u), (&lower, &lower)] {
                        assert_eq!(eq_words(x, y, |w| w), x == y, "{x:?} vs {y:?}");
                    }
                    // A shape recognises exactly its own text.
                    let shape = Shape::of(&s);
                    assert!(
                        shape.is(&s, &s) && !shape.is(&s, &u) && !shape.is(&s, &t[..t.len() - 1])
                    );
                    assert_eq!(
                        eq_ignore_ascii_case(&s, &u),
                        s.eq_ignore_ascii_case(&u),
                        "{s:?} vs {u:?}"
                    );
                }
                assert!(!eq_lower(&s, &[lower.as_slice(), b"x"].concat()));
            }
        }
    }

    /// `find_scan` answers as `str::find` over needles at every place, absent, empty, longer than the text, and
    /// after a false start.
    #[test]
    fn wasm5_find_scan_answers_as_str_find() {
        let hays = [
            "",
            "$",
            "${",
            "a$b${c}${",
            "$.request.context",
            "$$.{${",
            "héllo ${wörld}",
            "aaab",
        ];
        let needles = [
            "",
            "$",
            "${",
            "$.request",
            "${c}",
            "ö",
            "aab",
            "héllo ${wörld}!",
            "x",
        ];
        for h in hays {
            for n in needles {
                assert_eq!(
                    find_scan(h.as_bytes(), n.as_bytes()),
                    h.find(n),
                    "{h:?} {n:?}"
                );
                assert_eq!(find(h, n), h.find(n));
            }
        }
    }
}
