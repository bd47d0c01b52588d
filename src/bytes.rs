//! Byte helpers for keys and texts: case-blind hashes, word-at-a-time comparisons, and the forms ([`KeyText`],
//! [`Folded`], [`Shape`]) that let a decision find a context key or compare a short text in a few loads.
//!
//! Dependencies: this module depends on nothing else in the crate. `policy` (ARN and wildcard matching, action
//! names), `context` (which re-exports what the evaluator uses), `compile` and `decide` depend on it; it used to
//! live in context.rs, which made `policy` and `context` import each other.

/// The hash of a context key that [`KeyText`] and [`Folded`] use, the same in any ASCII case: of its length and
/// first and last eight bytes.
#[inline]
pub(crate) fn text_hash(key: &[u8]) -> u64 {
    KeyText::of(key).hash
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

/// [`key_hash`] of the decimal text of `n` (tests of the tables built on it).
#[cfg(test)]
pub(crate) fn key_hash_words_test(n: u64) -> u64 {
    key_hash(n.to_string().as_bytes())
}

/// How many words of a key [`KeyText`] and [`Folded`] keep: 48 bytes, more than most keys and actions have. The rest of a
/// longer key is compared as text.
const KEPT: usize = 6;

/// `0x20` in every byte: ORed into a byte, it turns a capital into its lowercase letter and leaves the byte the
/// same whatever the case of the text around it.
const FOLD: u64 = 0x2020_2020_2020_2020;

/// A key as the request gave it, in any case, ready to be looked up: its hash, from its length and its first and
/// last eight bytes (two loads, whatever its length); [`Folded::is`] then compares it whole.
#[derive(Debug, Clone, Copy)]
pub(crate) struct KeyText<'a> {
    raw: &'a [u8],
    hash: u64,
}

impl<'a> KeyText<'a> {
    #[inline]
    pub fn of(raw: &'a [u8]) -> KeyText<'a> {
        let (first, last) = match raw.first_chunk::<8>().zip(raw.last_chunk::<8>()) {
            Some((f, l)) => (u64::from_le_bytes(*f), u64::from_le_bytes(*l)),
            None => (word(raw), 0),
        };
        // Case-blind: a capital and its lowercase letter agree once ORed with 0x20.
        let (first, last) = (first | FOLD, last | FOLD);
        let h = (raw.len() as u64)
            .wrapping_mul(0x9e37_79b9_7f4a_7c15)
            .wrapping_add((first ^ (first >> 29)).wrapping_mul(0xc2b2_ae3d_27d4_eb4f))
            .wrapping_add((last ^ (last >> 31)).wrapping_mul(0x1656_67b1_9e37_79f9));
        let h = (h ^ (h >> 31)).wrapping_mul(0x85eb_ca77_c2b2_ae63);
        KeyText {
            raw,
            hash: h ^ (h >> 32),
        }
    }

    /// The same for any case of the key. Keys that share their length and first and last eight bytes collide
    /// (a lookup then compares them all); tables built on it bound their probes (`compile::MAX_PROBE`).
    #[inline]
    pub fn hash(&self) -> u64 {
        self.hash
    }
}

/// A lowercase key as a table keeps it to compare with a [`KeyText`]: its hash, up to [`KEPT`] words and, per
/// byte, `0x20` where it has a letter (the one bit by which that byte may differ in a key given in another case).
/// The words are the key's leading words (at most `KEPT - 1`, each wholly before its last eight bytes), and, in the
/// last place, its last eight bytes (overlapping the one before; a key shorter than eight bytes zero-padded), so
/// that a comparison is a short run of loads with no tail to handle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Folded {
    len: usize,
    hash: u64,
    words: [u64; KEPT],
    letters: [u64; KEPT],
}

/// How many leading words of a key of `len` bytes [`Folded`] keeps apart from its last eight bytes.
#[inline(always)]
fn leading_words(len: usize) -> usize {
    (len.saturating_sub(1) / 8).min(KEPT - 1)
}

/// The eight bytes of `b` from `at`, or 0 (the caller ensures they exist).
#[inline(always)]
fn load(b: &[u8], at: usize) -> u64 {
    b.get(at..)
        .and_then(|r| r.first_chunk::<8>())
        .map_or(0, |c| u64::from_le_bytes(*c))
}

/// The last eight bytes of `b` as a word; for a shorter `b`, its bytes zero-padded.
#[inline(always)]
fn last_word(b: &[u8]) -> u64 {
    match b.last_chunk::<8>() {
        Some(c) => u64::from_le_bytes(*c),
        None => word(b),
    }
}

impl Folded {
    /// The folding of `lower`, a lowercase key.
    pub fn of(lower: &[u8]) -> Folded {
        let mut words = [0u64; KEPT];
        for (i, w) in words
            .iter_mut()
            .enumerate()
            .take(leading_words(lower.len()))
        {
            *w = load(lower, 8 * i);
        }
        if let Some(w) = words.last_mut() {
            *w = last_word(lower);
        }
        // A byte that is a lowercase letter: 0x20 there. Adding per byte cannot carry (seven bits).
        let letters = words.map(|w| {
            const ONES: u64 = 0x0101_0101_0101_0101;
            const HIGH: u64 = 0x8080_8080_8080_8080;
            let low = w & !HIGH;
            let ge_a = low + ONES * (0x80 - u64::from(b'a'));
            let gt_z = low + ONES * (0x80 - u64::from(b'z') - 1);
            ((ge_a & !gt_z & !w & HIGH) >> 2) & FOLD
        });
        Folded {
            len: lower.len(),
            hash: KeyText::of(lower).hash,
            words,
            letters,
        }
    }

    #[inline]
    pub fn hash(&self) -> u64 {
        self.hash
    }

    /// Whether `key` is this key in some case; `lower` is this key's text. A byte may differ from this key's
    /// only by `0x20`, and only where this key has a letter.
    #[inline]
    pub fn is(&self, key: &KeyText<'_>, lower: &[u8]) -> bool {
        let raw = key.raw;
        let n = raw.len();
        if n != self.len || key.hash != self.hash {
            return false;
        }
        let differs = |w: u64, i: usize| match (self.words.get(i), self.letters.get(i)) {
            (Some(x), Some(m)) => (w ^ x) & !m,
            _ => 1,
        };
        let lead = leading_words(n);
        let mut diff = differs(last_word(raw), KEPT - 1);
        // Unrolled: a loop's setup costs more than its few words.
        for i in 0..KEPT - 1 {
            if i < lead {
                diff |= differs(load(raw, 8 * i), i);
            }
        }
        diff == 0 && (n <= 8 * KEPT || same_middle(raw, lower))
    }
}

/// Whether the middle of a key longer than [`Folded`] keeps, past its kept words, is that of `lower` in some case.
#[cold]
#[inline(never)]
fn same_middle(raw: &[u8], lower: &[u8]) -> bool {
    fn middle(b: &[u8]) -> &[u8] {
        b.get(8 * (KEPT - 1)..b.len().saturating_sub(8))
            .unwrap_or_default()
    }
    eq_lower(middle(raw), middle(lower))
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
    match key.last_chunk::<8>() {
        Some(last) if n % 8 != 0 => u64::from_le_bytes(*last) >> (8 * (8 - n % 8)),
        Some(_) => 0,
        None => word(key),
    }
}

/// Each ASCII capital of the eight bytes of `w` lowercased; every other byte (non-ASCII included) unchanged.
#[inline(always)]
pub(crate) fn lower8(w: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // Seven bits per byte, so that the additions below cannot carry into the next byte.
    let low = w & !HIGH;
    let ge_a = low + ONES * (0x80 - u64::from(b'A'));
    let gt_z = low + ONES * (0x80 - u64::from(b'Z') - 1);
    let upper = ge_a & !gt_z & !w & HIGH;
    w | (upper >> 2)
}

/// The little-endian word of up to eight bytes (missing bytes zero), without a variable-length copy: short
/// tails are read as two overlapping loads.
#[inline(always)]
fn word(b: &[u8]) -> u64 {
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

/// A text's length and first, second and last eight bytes, kept to recognise it among others by four comparisons
/// up to 24 bytes (the usual condition key), by those and a comparison of the whole text beyond.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Shape {
    len: usize,
    first: u64,
    second: u64,
    last: u64,
}

impl Shape {
    pub fn of(t: &[u8]) -> Shape {
        let (first, last) = ends(t);
        Shape {
            len: t.len(),
            first,
            second: second(t),
            last,
        }
    }

    /// Whether `t` is `text`, whose shape this is.
    #[inline]
    pub fn is(&self, text: &[u8], t: &[u8]) -> bool {
        t.len() == self.len
            && ends(t) == (self.first, self.last)
            && (t.len() <= 16 || (second(t) == self.second && (t.len() <= 24 || eq_bytes(text, t))))
    }
}

/// The second eight bytes of `t`, when it has more than sixteen (fewer are all in its first and last eight).
#[inline(always)]
fn second(t: &[u8]) -> u64 {
    match t.get(8..).and_then(|r| r.first_chunk::<8>()) {
        Some(w) if t.len() > 16 => u64::from_le_bytes(*w),
        _ => 0,
    }
}

/// The first and last eight bytes of `t` as words; for fewer than eight, its bytes zero-padded, and 0.
#[inline(always)]
fn ends(t: &[u8]) -> (u64, u64) {
    match (t.first_chunk::<8>(), t.last_chunk::<8>()) {
        (Some(f), Some(l)) => (u64::from_le_bytes(*f), u64::from_le_bytes(*l)),
        _ => (word(t), 0),
    }
}

/// Whether `a == b`, eight bytes at a time, inline (no call to `memcmp` for short keys).
#[inline]
pub(crate) fn eq_bytes(a: &[u8], b: &[u8]) -> bool {
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

    /// A [`Folded`] key recognises exactly the texts equal to it in ASCII case, past the kept words too, and the
    /// hash of a [`KeyText`] is the same in any case: random keys of every length from 0 to 72 over letters, the
    /// bytes that differ from a letter by `0x20` only (`@`, `[`, `` ` ``, `{`, DEL, `_`), digits and non-ASCII.
    #[test]
    fn folded_keys_match_exactly_the_case_variants() {
        let alphabet: Vec<u8> = b"aAzZmM:/_@[`{\x7f09-"
            .iter()
            .copied()
            .chain([0x7f, 0xc1, 0xe1, 0xff])
            .collect();
        let mut next = crate::xorshift(0x9e37_79b9_7f4a_7c15);
        for len in 0..=72 {
            for _ in 0..150 {
                let s: Vec<u8> = (0..len)
                    .map(|_| alphabet[next() as usize % alphabet.len()])
                    .collect();
                let lower = s.to_ascii_lowercase();
                let folded = Folded::of(&lower);
                assert!(folded.is(&KeyText::of(&s), &lower), "{s:?}");
                assert_eq!(KeyText::of(&s).hash(), folded.hash(), "{s:?}");
                // One byte changed: recognised exactly when the change is a case change.
                if len > 0 {
                    let mut t = s.clone();
                    let i = next() as usize % len;
                    t[i] = alphabet[next() as usize % alphabet.len()];
                    let want = t.eq_ignore_ascii_case(&s);
                    assert_eq!(folded.is(&KeyText::of(&t), &lower), want, "{s:?} vs {t:?}");
                }
                // One byte more or less never matches.
                let mut longer = s.clone();
                longer.push(b'a');
                assert!(!folded.is(&KeyText::of(&longer), &lower));
                if let Some((_, shorter)) = s.split_last() {
                    assert!(!folded.is(&KeyText::of(shorter), &lower));
                }
            }
        }
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
}
