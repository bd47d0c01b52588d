//! ARNs and ARN patterns, compared field by field (docs/SEMANTICS.md §2.1).

use super::pattern::{Pattern, Vars};

/// Split an ARN into its six fields; the sixth keeps any further colons. `None` when there are fewer than six.
///
/// ```
/// let f = iamgate::policy::arn::split("arn:aws:s3:::bucket/key:with:colons").unwrap();
/// assert_eq!(f, ["arn", "aws", "s3", "", "", "bucket/key:with:colons"]);
/// assert!(iamgate::policy::arn::split("not-an-arn").is_none());
/// ```
pub fn split(arn: &str) -> Option<[&str; 6]> {
    // The hot path (a request's resource and principal, once per decision) and `ArnPattern::parse` split by hand,
    // eight bytes at a time; the nom grammar in `parse::grammar::arn_fields` agrees (tested).
    fields_at(arn, first_colons(arn.as_bytes())?)
}

/// The fields of `arn` given the offsets of its first five colons ([`first_colons`]).
pub(crate) fn fields_at(arn: &str, cuts: [usize; 5]) -> Option<[&str; 6]> {
    let mut fields = [""; 6];
    let mut start = 0;
    for (slot, &cut) in fields.iter_mut().zip(&cuts) {
        *slot = arn.get(start..cut)?;
        start = cut + 1;
    }
    if let Some(last) = fields.last_mut() {
        *last = arn.get(start..)?;
    }
    Some(fields)
}

/// The high bit of each byte of the little-endian word `w` that is a `:` ([`crate::bytes::swar::eq`]).
#[inline(always)]
fn colon_high(w: u64) -> u64 {
    crate::bytes::swar::eq(w, b':')
}

/// [`colon_high`] of the eight bytes `c`.
#[inline(always)]
fn colon_bits(c: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(c);
    colon_high(u64::from_le_bytes(w))
}

/// One bit per byte of the little-endian word `w`: bit `j` is set when byte `j` is a `:`. The multiplication
/// gathers the high bits of [`colon_high`]: bit `8j + 7` times `2^(49 - 7j)` lands on bit `56 + j`, and no two of
/// the 64 partial products (bits `8j + 7 + 7k`) share a bit, so nothing carries into the top byte.
#[inline(always)]
fn colon_mask(w: u64) -> u64 {
    colon_high(w).wrapping_mul(0x0002_0408_1020_4081) >> 56
}

/// [`colon_mask`] of sixteen bytes: sixteen bits.
#[inline(always)]
fn colon_mask16(c: &[u8; 16]) -> u64 {
    let v = u128::from_le_bytes(*c);
    colon_mask(v as u64) | colon_mask((v >> 64) as u64) << 8
}

/// The offsets of the fourth and fifth set bits of `m`, when it has five.
#[inline(always)]
fn fourth_and_fifth(m: u64) -> Option<(usize, usize)> {
    let m = m & m.wrapping_sub(1);
    let m = m & m.wrapping_sub(1);
    let m = m & m.wrapping_sub(1);
    let after = m & m.wrapping_sub(1);
    (after != 0).then(|| (m.trailing_zeros() as usize, after.trailing_zeros() as usize))
}

/// The offsets of the first five `:` of `b`, or `None` when it has fewer.
pub(crate) fn first_colons(b: &[u8]) -> Option<[usize; 5]> {
    let mut out = [0usize; 5];
    let mut n = 0;
    // Record one colon; true once there are five.
    fn push(out: &mut [usize; 5], n: &mut usize, at: usize) -> bool {
        if let Some(o) = out.get_mut(*n) {
            *o = at;
        }
        *n += 1;
        *n == 5
    }
    let mut chunks = b.chunks_exact(8);
    let mut base = 0;
    for c in &mut chunks {
        let mut m = colon_bits(c);
        while m != 0 {
            if push(&mut out, &mut n, base + (m.trailing_zeros() / 8) as usize) {
                return Some(out);
            }
            m &= m - 1;
        }
        base += 8;
    }
    for (i, &c) in chunks.remainder().iter().enumerate() {
        if c == b':' && push(&mut out, &mut n, base + i) {
            return Some(out);
        }
    }
    None
}

/// The offsets of the fourth and fifth colons of `b`, when it has five: one bit per byte over the first 64 bytes,
/// sixteen at a time (the first 32 at once), the two colons then found by clearing the lowest bits.
#[inline(always)]
fn fourth_and_fifth_colons(b: &[u8]) -> Option<(usize, usize)> {
    let slow = || first_colons(b).map(|[_, _, _, d, e]| (d, e));
    let n = b.len();
    let Some((head, mut rest)) = b.split_first_chunk::<32>() else {
        // Under 32 bytes: the first and the last 16 (or 8), overlapping; the overlap sets the same bits again.
        if let (Some(first), Some(last)) = (b.first_chunk::<16>(), b.last_chunk::<16>()) {
            return fourth_and_fifth(colon_mask16(first) | colon_mask16(last) << (n - 16));
        }
        if let (Some(first), Some(last)) = (b.first_chunk::<8>(), b.last_chunk::<8>()) {
            let (first, last) = (u64::from_le_bytes(*first), u64::from_le_bytes(*last));
            return fourth_and_fifth(colon_mask(first) | colon_mask(last) << (n - 8));
        }
        return slow();
    };
    // Bit i: byte i is a colon, for the bytes seen so far.
    let mut m = 0;
    if let (Some((lo, hi)), base) = (head.split_first_chunk::<16>(), 16) {
        if let Ok(hi) = <&[u8; 16]>::try_from(hi) {
            m = colon_mask16(lo) | colon_mask16(hi) << base;
        }
    }
    let mut base = 32;
    loop {
        if let Some(c) = fourth_and_fifth(m) {
            return Some(c);
        }
        if base == 64 {
            // Fewer than five colons in the first 64 bytes.
            return slow();
        }
        match rest.split_first_chunk::<16>() {
            Some((block, tail)) => {
                m |= colon_mask16(block) << base;
                base += 16;
                rest = tail;
            }
            None => {
                // Under 16 bytes left: the last 16 bytes, overlapping the blocks already seen.
                return match b.last_chunk::<16>() {
                    Some(last) if !rest.is_empty() => {
                        fourth_and_fifth(m | colon_mask16(last) << (n - 16))
                    }
                    _ => None,
                };
            }
        }
    }
}

/// The text between the fourth and fifth colons of `arn` (its account field) when it has five colons and the
/// field is not empty: the fourth field of [`first_colons`]'s cuts.
#[inline]
pub(crate) fn account_field(arn: &str) -> Option<&str> {
    let (fourth, fifth) = fourth_and_fifth_colons(arn.as_bytes())?;
    arn.get(fourth + 1..fifth).filter(|a| !a.is_empty())
}

/// The offsets of the fourth and fifth colons of `arn`, when it has five (the shape every ARN has).
#[inline]
pub(crate) fn account_field_at(arn: &str) -> Option<(usize, usize)> {
    fourth_and_fifth_colons(arn.as_bytes())
}

/// Whether the account field of `arn` is `account` (no colon in it), read where the usual principal ARN has it:
/// `arn:aws:`, a three-letter service (`iam`, `sts`), no region, then the account and a colon. `false` says
/// nothing: the caller reads [`account_field`].
#[inline]
pub(crate) fn account_is(arn: &[u8], account: &[u8]) -> bool {
    let Some((head, rest)) = arn.split_first_chunk::<13>() else {
        return false;
    };
    head.starts_with(b"arn:aws:")
        && head.ends_with(b"::")
        && head.get(8..11).is_some_and(|s| !s.contains(&b':'))
        && rest.get(account.len()) == Some(&b':')
        && rest
            .get(..account.len())
            .is_some_and(|a| crate::bytes::eq_bytes(a, account))
}

/// The account field of an ARN, when it has one.
pub fn account(arn: &str) -> Option<&str> {
    split(arn).map(|f| f[4]).filter(|a| !a.is_empty())
}

/// An ARN pattern (Resource element, ArnLike/ArnEquals values): six per-field globs, or `*` alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArnPattern {
    /// `*`: every value.
    Any,
    /// One glob per field: partition, service, region, account, resource type and id (the sixth takes the
    /// rest, colons included).
    Fields(Box<[Pattern; 6]>),
    /// The first five fields are literal text: the same as one glob over the whole value (the sixth field takes
    /// the rest, colons included), which is faster.
    Flat(Pattern),
    /// Not six fields: matches nothing (the value is still kept for diagnostics).
    Invalid(String),
}

impl ArnPattern {
    /// The pattern of `text`; `variables`: whether `${...}` is a policy variable (Version `2012-10-17`).
    pub fn parse(text: &str, variables: bool) -> ArnPattern {
        ArnPattern::parse_by(text, variables, |s, _| Pattern::parse(s, true, variables))
    }

    /// [`ArnPattern::parse`] of a policy's text: its patterns are slices of the policy's text when `t` is one
    /// (no copy; see [`crate::policy::Text`]).
    pub(crate) fn parse_text(t: &crate::policy::Text, variables: bool) -> ArnPattern {
        ArnPattern::parse_by(t, variables, |s, first| {
            Pattern::parse_within_known(t, s, true, variables, first)
        })
    }

    /// [`ArnPattern::parse`], each glob (of the whole text or of a field, a slice of `text`) made by `glob`,
    /// given the text's first special byte (`pattern::first_special`) when it is known.
    fn parse_by(
        text: &str,
        variables: bool,
        glob: impl Fn(&str, Option<Option<usize>>) -> Pattern,
    ) -> ArnPattern {
        if text == "*" {
            return ArnPattern::Any;
        }
        // `split`, eight bytes at a time, gives the fields the grammar's `arn_fields` gives (tested below), at a
        // fraction of the cost: a set built to decide once parses every resource pattern.
        // Split only where the first five fields are not all literal: their colons say where the sixth starts.
        // (`fields_at` never fails on `first_colons`'s cuts: colons are ASCII, so every cut is a boundary.)
        let Some(cuts) = first_colons(text.as_bytes()) else {
            return ArnPattern::Invalid(text.to_string());
        };
        // A field without a wildcard or a `$` is literal (`Pattern::parse`): the usual ARN, whose first five
        // fields are literal, is parsed once, whole, without its fields. The sixth field starts after the fifth
        // colon: the five are literal when no special byte comes before it.
        let sixth = cuts.last().map_or(0, |c| c + 1);
        let first = crate::policy::pattern::first_special(text.as_bytes(), true, variables);
        if first.is_none_or(|at| at >= sixth) {
            return ArnPattern::Flat(glob(text, Some(first)));
        }
        match fields_at(text, cuts) {
            Some(f) => {
                let fields = f.map(|s| glob(s, None));
                if fields.iter().take(5).all(|p| p.as_literal().is_some()) {
                    return ArnPattern::Flat(glob(text, Some(first)));
                }
                ArnPattern::Fields(Box::new(fields))
            }
            None => ArnPattern::Invalid(text.to_string()),
        }
    }

    /// Whether `value` matches: `None` when a variable without default is missing (§2.3).
    pub fn matches(&self, value: &str, vars: &dyn Vars) -> Option<bool> {
        self.matches_fields(split(value), value, vars)
    }

    /// [`ArnPattern::matches`] with the value already split (`None`: not six fields).
    pub fn matches_fields(
        &self,
        fields: Option<[&str; 6]>,
        value: &str,
        vars: &dyn Vars,
    ) -> Option<bool> {
        match self {
            ArnPattern::Any => Some(true),
            ArnPattern::Invalid(_) => Some(false),
            ArnPattern::Flat(p) => {
                if fields.is_none() {
                    return Some(false);
                }
                p.matches(value, vars, false)
            }
            ArnPattern::Fields(pats) => {
                let Some(fields) = fields else {
                    return Some(false);
                };
                let mut all = true;
                for (p, v) in pats.iter().zip(fields) {
                    // Evaluate every field so that a missing variable anywhere is reported as missing.
                    if !p.matches(v, vars, false)? {
                        all = false;
                    }
                }
                Some(all)
            }
        }
    }

    /// [`ArnPattern::matches_fields`] given the offsets of the value's first five colons ([`first_colons`],
    /// asked only when the pattern needs them; `None`: not an ARN). Splits only for a per-field pattern.
    #[inline]
    pub(crate) fn matches_cut(
        &self,
        cuts: impl FnOnce() -> Option<[usize; 5]>,
        value: &str,
        vars: &dyn Vars,
    ) -> Option<bool> {
        match self {
            ArnPattern::Any => Some(true),
            ArnPattern::Invalid(_) => Some(false),
            // The five literal fields (their colons included) start the pattern, so a value that matches it has
            // them too: it is an ARN without looking for its colons.
            ArnPattern::Flat(p) => p.matches(value, vars, false),
            ArnPattern::Fields(_) => {
                self.matches_fields(cuts().and_then(|c| fields_at(value, c)), value, vars)
            }
        }
    }

    /// The string patterns the ARN pattern is made of: six, one, or none.
    pub(crate) fn patterns(&self) -> &[Pattern] {
        match self {
            ArnPattern::Fields(p) => &p[..],
            ArnPattern::Flat(p) => std::slice::from_ref(p),
            ArnPattern::Any | ArnPattern::Invalid(_) => &[],
        }
    }

    /// Whether any field holds a policy variable.
    pub fn has_variables(&self) -> bool {
        match self {
            ArnPattern::Fields(p) => p.iter().any(Pattern::has_variables),
            ArnPattern::Flat(p) => p.has_variables(),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `ArnPattern::parse` without its shortcut for literal leading fields: every field parsed, then the whole
    /// text when the first five are literal.
    fn parse_by_fields(text: &str, variables: bool) -> ArnPattern {
        if text == "*" {
            return ArnPattern::Any;
        }
        match crate::parse::grammar::arn_fields(text) {
            Some(f) => {
                let fields = f.map(|x| Pattern::parse(x, true, variables));
                if fields.iter().take(5).all(|p| p.as_literal().is_some()) {
                    return ArnPattern::Flat(Pattern::parse(text, true, variables));
                }
                ArnPattern::Fields(Box::new(fields))
            }
            None => ArnPattern::Invalid(text.to_string()),
        }
    }

    /// The shortcut gives the pattern of the field-by-field parse, for ARNs with wildcards, `?`, `$` and
    /// variables in each field, and for texts that are no ARN (too few fields).
    #[test]
    fn literal_fields_shortcut_parses_alike() {
        let pieces = [
            "arn",
            "aws",
            "s3",
            "",
            "eu-west-1",
            "111122223333",
            "*",
            "a?c",
            "${aws:username}",
            "$x",
            "${*}",
        ];
        let mut next = crate::xorshift(0x9e37_79b9_7f4a_7c15);
        let mut seen = [0; 4];
        for _ in 0..3_000 {
            // Mostly six fields after `arn`, sometimes fewer or more.
            let n = 4 + (next() % 3) as usize;
            let fields: Vec<&str> = (0..n)
                .map(|_| pieces[(next() % pieces.len() as u64) as usize])
                .collect();
            let head = if next() % 8 == 0 { "*" } else { "arn" };
            let text = format!("{head}:{}/res*", fields.join(":"));
            for variables in [false, true] {
                let p = ArnPattern::parse(&text, variables);
                seen[match p {
                    ArnPattern::Any => 0,
                    ArnPattern::Flat(_) => 1,
                    ArnPattern::Fields(_) => 2,
                    ArnPattern::Invalid(_) => 3,
                }] += 1;
                assert_eq!(p, parse_by_fields(&text, variables), "{text} {variables}");
            }
        }
        assert!(seen[1..].iter().all(|&n| n > 100), "{seen:?}");
    }

    /// The account field by the cuts of `first_colons`: the reference for `account_field`.
    fn account_at(arn: &str, cuts: [usize; 5]) -> Option<&str> {
        let [_, _, _, a, b] = cuts;
        arn.get(a + 1..b).filter(|s| !s.is_empty())
    }
    use crate::policy::pattern::NoVars;

    #[test]
    fn per_field_versus_flat() {
        // docs/SEMANTICS.md §2.1: StringLike matches, ArnLike does not.
        let pat = "arn:aws:someservice:*:111122223333:finance/*";
        let val = "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt";
        assert_eq!(
            ArnPattern::parse(pat, true).matches(val, &NoVars),
            Some(false)
        );
        assert_eq!(
            Pattern::parse(pat, true, true).matches(val, &NoVars, false),
            Some(true)
        );
    }

    #[test]
    fn hand_split_agrees_with_the_grammar() {
        for s in [
            "arn:aws:s3:::b/k:x",
            "a:b:c:d:e:f",
            "a:b",
            "",
            ":::::",
            "arn:aws:iam::1:role/x",
            "arn:aws:sagemaker:eu-west-1:111122223333:user-profile/d-abc123/alice",
            "arn:aws:iam::111122223333:role/DataSci",
            "a:b:c:d",
            "aaaaaaa:bbbbbbbbbbb:c:é:d:e:f:g",
            "::::::::::::::::",
            "1234567:",
            "12345678:a:b:c:d",
        ] {
            assert_eq!(split(s), crate::parse::grammar::arn_fields(s), "{s}");
            assert_eq!(
                account_field(s),
                first_colons(s.as_bytes()).and_then(|c| account_at(s, c)),
                "{s}"
            );
        }
    }

    /// `account_field` agrees with `first_colons` + `account_at` on every length up to 130 (past the 64-byte
    /// window), over alphabets with colons common, rare and absent, and with multi-byte characters.
    #[test]
    fn account_field_agrees_with_the_colons() {
        let alphabets: [&[char]; 5] = [
            &[':', ':', 'a', '1', '/', '-'],
            &[':', ':', ':', ':', ':', 'a'],
            &[':', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k'],
            &['a', '1', '/', '-', ';', '9'],
            &[':', ':', 'a', 'é', '€', '𝄞', '\u{80}', '\u{ff}'],
        ];
        let mut next = crate::xorshift(0x9e37_79b9_7f4a_7c15);
        for alphabet in alphabets {
            for len in 0..=130 {
                for _ in 0..200 {
                    let s: String = (0..len)
                        .map(|_| {
                            alphabet
                                .get((next() % alphabet.len() as u64) as usize)
                                .copied()
                                .unwrap_or(':')
                        })
                        .collect();
                    let want = first_colons(s.as_bytes()).and_then(|c| account_at(&s, c));
                    assert_eq!(account_field(&s), want, "{s:?}");
                }
            }
        }
    }

    /// Whenever `account_is` says yes, the account field is that account: over ARN-like texts made of colons,
    /// digits and letters after `arn:aws:` (colons among the service's bytes included).
    #[test]
    fn account_is_implies_the_same_account_field() {
        let alphabet = [':', ':', '1', '2', 'a', '/'];
        let accounts = ["1", "12", "112", "1212", "a1", "111122223333"];
        let mut next = crate::xorshift(0x2545_f491_4f6c_dd1d);
        let mut said = 0;
        for len in 0..=24 {
            for _ in 0..4000 {
                let tail: String = (0..len)
                    .map(|_| alphabet.get((next() % 6) as usize).copied().unwrap_or(':'))
                    .collect();
                let arn = format!("arn:aws:{tail}");
                for account in accounts {
                    if account_is(arn.as_bytes(), account.as_bytes()) {
                        said += 1;
                        assert_eq!(account_field(&arn), Some(account), "{arn:?}");
                    }
                }
            }
        }
        // And it says yes often enough to matter: on the usual shape, always.
        assert!(said > 100, "{said}");
        for (arn, account) in [
            ("arn:aws:iam::111122223333:role/R", "111122223333"),
            ("arn:aws:sts::111122223333:assumed-role/R/s", "111122223333"),
            ("arn:aws:iam::1:", "1"),
        ] {
            assert!(account_is(arn.as_bytes(), account.as_bytes()), "{arn}");
        }
        for (arn, account) in [
            ("arn:aws:iam::111122223333:role/R", "11112222333"),
            ("arn:aws:iam::111122223333", "111122223333"),
            ("arn:aws-cn:iam::111122223333:role/R", "111122223333"),
            ("arn:aws:iam:r:111122223333:role/R", "111122223333"),
        ] {
            assert!(!account_is(arn.as_bytes(), account.as_bytes()), "{arn}");
        }
    }

    /// The 4th and 5th colons at every pair of offsets, around the 16-, 32- and 64-byte boundaries and past them,
    /// among ';' (':' + 1) or a two-byte character ('\u{ba}', whose second byte is ':' ^ 0x80).
    #[test]
    fn account_field_at_every_offset() {
        let lens = (0..=40).chain([47, 48, 49, 63, 64, 65, 66, 79, 80, 81, 100, 130]);
        for len in lens {
            for fill in ["a", ";", "\u{ba}"] {
                let base: Vec<String> = (0..len).map(|_| fill.to_string()).collect();
                for d in 0..len {
                    for e in d..len {
                        let mut v = base.clone();
                        for i in [0, d / 3, d / 2, d, e].into_iter().filter(|&i| i < len) {
                            if let Some(x) = v.get_mut(i) {
                                *x = ":".to_string();
                            }
                        }
                        let s: String = v.concat();
                        let want = first_colons(s.as_bytes()).and_then(|c| account_at(&s, c));
                        assert_eq!(account_field(&s), want, "{s:?}");
                    }
                }
            }
        }
    }

    /// The gathering multiplication of `colon_mask` on every pattern of colons in a word, the other bytes every
    /// value either side of ':' and a multi-byte lead.
    #[test]
    fn colon_mask_is_exact() {
        for bits in 0u32..256 {
            for other in [b'a', b';', b'9', 0xba, 0xbb, 0xb9, 0xff, 0x00, 0x80] {
                let w: [u8; 8] =
                    std::array::from_fn(|j| if bits >> j & 1 == 1 { b':' } else { other });
                assert_eq!(
                    colon_mask(u64::from_le_bytes(w)),
                    u64::from(bits),
                    "{bits:08b} {other}"
                );
            }
        }
    }

    #[test]
    fn fields_and_any() {
        let p = ArnPattern::parse(
            "arn:aws:sagemaker:*:111122223333:user-profile/d-abc123/*",
            true,
        );
        assert_eq!(
            p.matches(
                "arn:aws:sagemaker:eu-west-1:111122223333:user-profile/d-abc123/alice",
                &NoVars
            ),
            Some(true)
        );
        assert_eq!(
            p.matches(
                "arn:aws:sagemaker:eu-west-1:111122223333:user-profile/d-other/alice",
                &NoVars
            ),
            Some(false)
        );
        assert_eq!(
            ArnPattern::parse("*", true).matches("whatever", &NoVars),
            Some(true)
        );
        assert_eq!(
            ArnPattern::parse("arn:*", true).matches("arn:aws:s3:::b", &NoVars),
            Some(false)
        );
        assert_eq!(
            ArnPattern::parse("arn:aws:s3:::Bucket", true).matches("arn:aws:s3:::bucket", &NoVars),
            Some(false)
        );
    }
}
