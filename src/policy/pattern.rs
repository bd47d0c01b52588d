//! String patterns in policies: literal text, the wildcards `*` and `?`, and policy variables `${key}` with
//! defaults and escapes (docs/SEMANTICS.md §2.1, §2.3).
//!
//! Matching is linear in the length of the value times the longest run of text between two `*` (no
//! backtracking across stars), allocates nothing, and resolves variables from the request as it goes.

use nom::{
    IResult, Parser,
    branch::alt,
    bytes::complete::{tag, take_till1, take_while},
    character::complete::char,
    combinator::{map, opt, value},
    sequence::{delimited, preceded},
};
use std::borrow::Cow;
use std::fmt;

/// One piece of a pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Atom {
    /// Literal text (escapes already applied).
    Text(String),
    /// `?`: exactly one character.
    One,
    /// `*`: any run of characters, also across `/` and `:`.
    Star,
    /// `${key}` or `${key, 'default'}`; `key` is lowercased (variable names are case-insensitive, §2.3).
    Var {
        key: String,
        default: Option<String>,
    },
}

/// Where a variable's value comes from at match time.
pub trait Vars {
    /// The single value of `key` (already lowercase), or `None` when the request does not carry it.
    fn var(&self, key: &str) -> Option<&str>;
}

/// No variables at all: every lookup misses.
pub struct NoVars;

impl Vars for NoVars {
    fn var(&self, _key: &str) -> Option<&str> {
        None
    }
}

/// A parsed pattern. `wildcards` says whether `*` and `?` are wildcards (Like, ARN, Action, Resource) or
/// literal (StringEquals and friends).
///
/// ```
/// use iamgate::policy::pattern::{Pattern, NoVars};
/// let p = Pattern::parse("user-profile/d-*/al?ce", true, true);
/// assert_eq!(p.matches("user-profile/d-abc/alice", &NoVars, false), Some(true));
/// assert_eq!(p.to_string(), "user-profile/d-*/al?ce");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    source: String,
    /// The atoms, or for the shapes that dominate real policies only where their text lies in `source`: those
    /// keep no atoms (no allocation beyond `source`), and matching them does not walk atoms.
    shape: Shape,
}

/// A pattern's atoms, by shape.
// INVARIANT: the shape is the one `Shape::of` gives for the pattern's atoms and source; the text of `Exact`,
// `Prefix` and `Suffix` is the stated part of `source` exactly (so it never came from an escape).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Shape {
    /// `[Star]`.
    Any,
    /// `[Text(source)]`, or `[]` when `source` is empty.
    Exact,
    /// `[Text(source[..n]), Star]`.
    Prefix(usize),
    /// `[Star, Text(source[source.len() - n..])]`.
    Suffix(usize),
    /// Anything else: the atoms, for the general matcher.
    Glob(Box<[Atom]>),
}

impl Shape {
    fn of(atoms: Vec<Atom>, source: &str) -> Shape {
        match atoms.as_slice() {
            [] if source.is_empty() => Shape::Exact,
            [Atom::Star] => Shape::Any,
            [Atom::Text(t)] if t == source => Shape::Exact,
            [Atom::Text(t), Atom::Star] if source.starts_with(t.as_str()) => Shape::Prefix(t.len()),
            [Atom::Star, Atom::Text(t)] if source.ends_with(t.as_str()) => Shape::Suffix(t.len()),
            _ => Shape::Glob(atoms.into_boxed_slice()),
        }
    }
}

/// An atom borrowed from a pattern, whichever way it is stored.
#[derive(Clone, Copy)]
enum Piece<'a> {
    Text(&'a str),
    One,
    Star,
    Var(&'a str, Option<&'a str>),
}

impl<'a> From<&'a Atom> for Piece<'a> {
    fn from(a: &'a Atom) -> Piece<'a> {
        match a {
            Atom::Text(t) => Piece::Text(t),
            Atom::One => Piece::One,
            Atom::Star => Piece::Star,
            Atom::Var { key, default } => Piece::Var(key, default.as_deref()),
        }
    }
}

impl Pattern {
    /// Parse `text`. With `variables` false (Version other than 2012-10-17, or an operator that does not expand
    /// them), `${...}` is literal text.
    pub fn parse(text: &str, wildcards: bool, variables: bool) -> Pattern {
        Pattern::parse_owned(text.to_string(), wildcards, variables)
    }

    /// [`Pattern::parse`] of a text the caller no longer needs: the pattern keeps it as its source.
    pub(crate) fn parse_owned(text: String, wildcards: bool, variables: bool) -> Pattern {
        let special =
            |b: &u8| (wildcards && (*b == b'*' || *b == b'?')) || (variables && *b == b'$');
        let b = text.as_bytes();
        // The common shapes without building atoms: no special byte at all, or stars only at one end.
        let shape = match b.iter().position(special) {
            None => Some(Shape::Exact),
            Some(first) if b.get(first..).is_some_and(|t| t.iter().all(|&c| c == b'*')) => {
                Some(if first == 0 {
                    Shape::Any
                } else {
                    Shape::Prefix(first)
                })
            }
            Some(0) => {
                let run = b.iter().position(|&c| c != b'*').unwrap_or(b.len());
                let rest = b.get(run..).unwrap_or_default();
                (run > 0 && !rest.iter().any(special)).then_some(Shape::Suffix(rest.len()))
            }
            Some(_) => None,
        };
        let shape = match shape {
            Some(s) => s,
            None => Shape::of(atoms(&text, wildcards, variables), &text),
        };
        Pattern {
            source: text,
            shape,
        }
    }

    /// The atoms (built for the common shapes, which do not keep them).
    pub fn atoms(&self) -> Cow<'_, [Atom]> {
        let text = |t: &str| Atom::Text(t.to_string());
        match &self.shape {
            Shape::Glob(a) => Cow::Borrowed(a),
            Shape::Any => Cow::Owned(vec![Atom::Star]),
            Shape::Exact if self.source.is_empty() => Cow::Owned(Vec::new()),
            Shape::Exact => Cow::Owned(vec![text(&self.source)]),
            Shape::Prefix(n) => Cow::Owned(vec![text(self.prefix(*n)), Atom::Star]),
            Shape::Suffix(n) => Cow::Owned(vec![Atom::Star, text(self.suffix(*n))]),
        }
    }

    #[inline]
    fn prefix(&self, n: usize) -> &str {
        self.source.get(..n).unwrap_or_default()
    }

    #[inline]
    fn suffix(&self, n: usize) -> &str {
        self.source
            .get(self.source.len().saturating_sub(n)..)
            .unwrap_or_default()
    }

    /// The atoms as pieces, without building any: up to two inline, then the stored ones.
    fn pieces(&self) -> impl Iterator<Item = Piece<'_>> {
        let (inline, stored): ([Option<Piece<'_>>; 2], &[Atom]) = match &self.shape {
            Shape::Glob(a) => ([None, None], a),
            Shape::Any => ([Some(Piece::Star), None], &[]),
            Shape::Exact if self.source.is_empty() => ([None, None], &[]),
            Shape::Exact => ([Some(Piece::Text(&self.source)), None], &[]),
            Shape::Prefix(n) => ([Some(Piece::Text(self.prefix(*n))), Some(Piece::Star)], &[]),
            Shape::Suffix(n) => ([Some(Piece::Star), Some(Piece::Text(self.suffix(*n)))], &[]),
        };
        inline
            .into_iter()
            .flatten()
            .chain(stored.iter().map(Piece::from))
    }

    /// The text as written in the policy.
    pub fn source(&self) -> &str {
        &self.source
    }

    pub fn has_variables(&self) -> bool {
        match &self.shape {
            Shape::Glob(a) => a.iter().any(|a| matches!(a, Atom::Var { .. })),
            _ => false,
        }
    }

    pub fn has_wildcards(&self) -> bool {
        match &self.shape {
            Shape::Glob(a) => a.iter().any(|a| matches!(a, Atom::Star | Atom::One)),
            Shape::Exact => false,
            Shape::Any | Shape::Prefix(_) | Shape::Suffix(_) => true,
        }
    }

    /// Whether the pattern is `*` alone (after merging repeated stars), which matches every value.
    pub fn is_any(&self) -> bool {
        matches!(self.shape, Shape::Any)
    }

    /// The literal text of a pattern that is that text followed by one `*` (no other wildcard, no variable).
    #[inline]
    pub fn as_prefix(&self) -> Option<&str> {
        match &self.shape {
            Shape::Prefix(n) => Some(self.prefix(*n)),
            _ => None,
        }
    }

    /// The pattern as one literal string, when it has no wildcards and no variables.
    #[inline]
    pub fn as_literal(&self) -> Option<&str> {
        match &self.shape {
            Shape::Exact => Some(&self.source),
            Shape::Glob(a) => match &**a {
                [] => Some(""),
                [Atom::Text(t)] => Some(t),
                _ => None,
            },
            _ => None,
        }
    }

    /// Whether `value` matches. `None` when a variable without default is missing from the request (the caller
    /// applies §2.3: such a value matches nothing). `fold_ascii` compares letters ASCII case-insensitively.
    #[inline]
    pub fn matches(&self, value: &str, vars: &dyn Vars, fold_ascii: bool) -> Option<bool> {
        self.matches_bytes(value.as_bytes(), vars, fold_ascii)
    }

    /// [`Pattern::matches`] over the UTF-8 bytes of a value.
    #[inline]
    pub fn matches_bytes(&self, v: &[u8], vars: &dyn Vars, fold_ascii: bool) -> Option<bool> {
        // Fast paths for the shapes that dominate real policies.
        match &self.shape {
            Shape::Any => Some(true),
            Shape::Exact => Some(eq_bytes(v, self.source.as_bytes(), fold_ascii)),
            Shape::Prefix(n) => {
                let t = self.prefix(*n).as_bytes();
                Some(v.get(..t.len()).is_some_and(|h| eq_bytes(h, t, fold_ascii)))
            }
            Shape::Suffix(n) => {
                let t = self.suffix(*n).as_bytes();
                let start = v.len().checked_sub(t.len());
                Some(
                    start
                        .and_then(|s| v.get(s..))
                        .is_some_and(|h| eq_bytes(h, t, fold_ascii)),
                )
            }
            Shape::Glob(atoms) => glob(atoms, v, vars, fold_ascii),
        }
    }

    /// Exact comparison with Unicode case folding (the `IgnoreCase` operators). Wildcards are not special.
    pub fn equals_ignore_case(&self, value: &str, vars: &dyn Vars) -> Option<bool> {
        // ASCII text folds as ASCII: compared eight bytes at a time.
        if let Some(l) = self
            .as_literal()
            .filter(|l| l.is_ascii() && value.is_ascii())
        {
            return Some(crate::context::eq_ignore_ascii_case(
                l.as_bytes(),
                value.as_bytes(),
            ));
        }
        let mut want = value.chars().flat_map(char::to_lowercase);
        for piece in self.pieces() {
            let text = match piece {
                Piece::Text(t) => t,
                Piece::Var(key, default) => resolve(vars, key, default)?,
                Piece::Star => "*",
                Piece::One => "?",
            };
            for c in text.chars().flat_map(char::to_lowercase) {
                if want.next() != Some(c) {
                    return Some(false);
                }
            }
        }
        Some(want.next().is_none())
    }
}

/// The atoms of `text` (the general case of [`Pattern::parse`]).
fn atoms(text: &str, wildcards: bool, variables: bool) -> Vec<Atom> {
    let mut atoms: Vec<Atom> = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        if variables {
            if let Ok((r, atom)) = variable(rest) {
                push(&mut atoms, atom);
                rest = r;
                continue;
            }
        }
        // A run of literal text up to the next wildcard or `$` becomes one atom: no allocation per character.
        let special = |b: u8| (wildcards && (b == b'*' || b == b'?')) || (variables && b == b'$');
        let run = rest.bytes().position(special).unwrap_or(rest.len());
        let run = if run == 0 && rest.starts_with('$') {
            1
        } else {
            run
        };
        if run > 0 {
            let Some((lit, r)) = rest.split_at_checked(run) else {
                break;
            };
            match atoms.last_mut() {
                Some(Atom::Text(prev)) => prev.push_str(lit),
                _ => atoms.push(Atom::Text(lit.to_string())),
            }
            rest = r;
            continue;
        }
        let mut chars = rest.chars();
        let Some(c) = chars.next() else { break };
        let atom = match c {
            '*' if wildcards => Atom::Star,
            '?' if wildcards => Atom::One,
            c => Atom::Text(c.to_string()),
        };
        push(&mut atoms, atom);
        rest = chars.as_str();
    }
    atoms
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

fn push(atoms: &mut Vec<Atom>, atom: Atom) {
    match (atoms.last_mut(), atom) {
        (Some(Atom::Text(prev)), Atom::Text(t)) => prev.push_str(&t),
        // `**` is the same as `*`.
        (Some(Atom::Star), Atom::Star) => {}
        (_, atom) => atoms.push(atom),
    }
}

fn resolve<'v>(vars: &'v dyn Vars, key: &str, default: Option<&'v str>) -> Option<&'v str> {
    vars.var(key).or(default)
}

/// `${*}`, `${?}`, `${$}`, or `${ key }` / `${key, 'default'}` (spaces tolerated, docs/SEMANTICS.md §2.3 UNCERTAIN).
fn variable(i: &str) -> IResult<&str, Atom> {
    let escape = alt((
        value(Atom::Text("*".into()), tag("${*}")),
        value(Atom::Text("?".into()), tag("${?}")),
        value(Atom::Text("$".into()), tag("${$}")),
    ));
    let ws = |i| take_while(|c: char| c == ' ')(i);
    let key = take_till1(|c: char| c == '}' || c == ',' || c == ' ' || c == '$' || c == '{');
    let default = preceded(
        (char(','), ws),
        delimited(char('\''), take_while(|c: char| c != '\''), char('\'')),
    );
    let var = map(
        delimited(tag("${"), (ws, key, ws, opt(default), ws), char('}')),
        |(_, key, _, default, _): (&str, &str, &str, Option<&str>, &str)| Atom::Var {
            key: key.to_ascii_lowercase(),
            default: default.map(str::to_string),
        },
    );
    alt((escape, var)).parse(i)
}

/// Glob match over bytes: segments between stars are anchored (first, last) or found leftmost (middle).
/// Leftmost-first placement of each middle segment is optimal for star-only globs, so no backtracking is
/// needed and the work is linear in `value` times the segment length.
// Out of line: inlined, it would burden the fast paths of `matches_bytes` with its prologue.
#[inline(never)]
fn glob(atoms: &[Atom], value: &[u8], vars: &dyn Vars, fold: bool) -> Option<bool> {
    let first_star = atoms.iter().position(|a| matches!(a, Atom::Star));
    let Some(first_star) = first_star else {
        // No star: the whole pattern must match the whole value.
        return Some(match_at(atoms, value, 0, vars, fold)? == Some(value.len()));
    };
    let last_star = atoms
        .iter()
        .rposition(|a| matches!(a, Atom::Star))
        .unwrap_or(first_star);
    let head = atoms.get(..first_star).unwrap_or(&[]);
    let tail = atoms.get(last_star + 1..).unwrap_or(&[]);
    let Some(mut pos) = match_at(head, value, 0, vars, fold)? else {
        return Some(false);
    };
    // The tail is matched backwards from the end so that `?` over multi-byte characters stays exact.
    let Some(tail_start) = match_rev(tail, value, value.len(), vars, fold)? else {
        return Some(false);
    };
    if tail_start < pos {
        return Some(false);
    }
    let middle = atoms.get(first_star + 1..last_star).unwrap_or(&[]);
    for segment in middle.split(|a| matches!(a, Atom::Star)) {
        if segment.is_empty() {
            continue;
        }
        let mut found = None;
        let mut start = pos;
        while start <= tail_start {
            if value.get(start).is_some_and(|b| (b & 0xc0) == 0x80) {
                start += 1;
                continue;
            }
            if let Some(end) = match_at(segment, value, start, vars, fold)? {
                if end <= tail_start {
                    found = Some(end);
                }
                break;
            }
            start += 1;
        }
        match found {
            Some(end) => pos = end,
            None => return Some(false),
        }
    }
    Some(true)
}

#[inline]
fn eq_bytes(a: &[u8], b: &[u8], fold: bool) -> bool {
    if fold {
        crate::context::eq_ignore_ascii_case(a, b)
    } else {
        a == b
    }
}

fn utf8_len(first: u8) -> usize {
    match first {
        0x00..=0x7f => 1,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf7 => 4,
        _ => 1,
    }
}

/// Match a star-free run of atoms at `pos`; the end offset, `Some(None)` on mismatch, `None` if a variable is
/// missing.
fn match_at(
    atoms: &[Atom],
    value: &[u8],
    mut pos: usize,
    vars: &dyn Vars,
    fold: bool,
) -> Option<Option<usize>> {
    for atom in atoms {
        let text = match atom {
            Atom::Text(t) => t.as_bytes(),
            Atom::Var { key, default } => resolve(vars, key, default.as_deref())?.as_bytes(),
            Atom::One => {
                let Some(&b) = value.get(pos) else {
                    return Some(None);
                };
                pos += utf8_len(b);
                if pos > value.len() {
                    return Some(None);
                }
                continue;
            }
            Atom::Star => return Some(None),
        };
        let end = pos + text.len();
        match value.get(pos..end) {
            Some(s) if eq_bytes(s, text, fold) => pos = end,
            _ => return Some(None),
        }
    }
    Some(Some(pos))
}

/// Like [`match_at`] but backwards, ending at `end`; returns the start offset.
fn match_rev(
    atoms: &[Atom],
    value: &[u8],
    mut end: usize,
    vars: &dyn Vars,
    fold: bool,
) -> Option<Option<usize>> {
    for atom in atoms.iter().rev() {
        let text = match atom {
            Atom::Text(t) => t.as_bytes(),
            Atom::Var { key, default } => resolve(vars, key, default.as_deref())?.as_bytes(),
            Atom::One => {
                // Step back over one UTF-8 character.
                let mut start = end;
                loop {
                    if start == 0 {
                        return Some(None);
                    }
                    start -= 1;
                    match value.get(start) {
                        Some(b) if (b & 0xc0) == 0x80 => continue,
                        _ => break,
                    }
                }
                end = start;
                continue;
            }
            Atom::Star => return Some(None),
        };
        let Some(start) = end.checked_sub(text.len()) else {
            return Some(None);
        };
        match value.get(start..end) {
            Some(s) if eq_bytes(s, text, fold) => end = start,
            _ => return Some(None),
        }
    }
    Some(Some(end))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct Map(HashMap<String, String>);
    impl Vars for Map {
        fn var(&self, key: &str) -> Option<&str> {
            self.0.get(key).map(String::as_str)
        }
    }

    fn m(p: &str, v: &str) -> bool {
        Pattern::parse(p, true, true).matches(v, &NoVars, false) == Some(true)
    }

    #[test]
    fn wildcards() {
        assert!(m("*", ""));
        assert!(m("*", "anything/at:all"));
        assert!(m("a*", "abc"));
        assert!(!m("a*", "bac"));
        assert!(m("*c", "abc"));
        assert!(m("a?c", "abc"));
        assert!(!m("a?c", "ac"));
        assert!(m("a?c", "aéc"));
        assert!(m("*é", "xé"));
        assert!(m("?é", "éé"));
        assert!(m("bucket/*/test/*", "bucket/1/2/test/3/obj.jpg"));
        assert!(m("bucket/*/test/*", "bucket//test/object.jpg"));
        assert!(!m("bucket/*/test/*", "bucket/test/object.jpg"));
        assert!(m("*a*b*c*", "xxaxxbxxcxx"));
        assert!(!m("*a*b*c*", "xxaxxcxxbxx"));
        assert!(!m("ab*ba", "aba"));
        assert!(m("ab*ba", "abba"));
        assert!(m("a*a*a", "aaa"));
        assert!(!m("a*a*a", "aa"));
    }

    #[test]
    fn glob_agrees_with_a_naive_backtracker() {
        fn naive(p: &[u8], v: &[u8]) -> bool {
            match (p.first(), v.first()) {
                (None, None) => true,
                (Some(b'*'), _) => naive(&p[1..], v) || (!v.is_empty() && naive(p, &v[1..])),
                (Some(b'?'), Some(_)) => naive(&p[1..], &v[1..]),
                (Some(a), Some(b)) if a == b => naive(&p[1..], &v[1..]),
                _ => false,
            }
        }
        let alphabet = ["", "a", "b", "*", "?", "ab", "ba"];
        let values = [
            "", "a", "b", "ab", "ba", "aab", "abab", "bbaa", "abba", "aaaa",
        ];
        for x in alphabet {
            for y in alphabet {
                for z in alphabet {
                    let p = format!("{x}{y}{z}");
                    for v in values {
                        assert_eq!(m(&p, v), naive(p.as_bytes(), v.as_bytes()), "{p} vs {v}");
                    }
                }
            }
        }
    }

    #[test]
    fn literal_mode_keeps_wildcards_as_text() {
        let p = Pattern::parse("vpce-*", false, true);
        assert_eq!(p.as_literal(), Some("vpce-*"));
        assert_eq!(p.matches("vpce-123", &NoVars, false), Some(false));
        assert_eq!(p.matches("vpce-*", &NoVars, false), Some(true));
    }

    #[test]
    fn variables_defaults_and_escapes() {
        let vars = Map(HashMap::from([("aws:username".into(), "alice".into())]));
        let p = Pattern::parse("home/${aws:username}/*", true, true);
        assert_eq!(p.matches("home/alice/x", &vars, false), Some(true));
        assert_eq!(p.matches("home/bob/x", &vars, false), Some(false));
        assert_eq!(p.matches("home/alice/x", &NoVars, false), None);
        let p = Pattern::parse("${aws:PrincipalTag/team, 'company-wide'}", false, true);
        assert_eq!(p.matches("company-wide", &NoVars, false), Some(true));
        let p = Pattern::parse("a${*}b${?}${$}", true, true);
        assert_eq!(p.as_literal(), Some("a*b?$"));
        assert_eq!(p.matches("a*b?$", &NoVars, false), Some(true));
        assert_eq!(p.matches("axb?$", &NoVars, false), Some(false));
        // A variable's value is literal: its `*` is not a wildcard.
        let vars = Map(HashMap::from([("k".into(), "*".into())]));
        let p = Pattern::parse("${k}", true, true);
        assert_eq!(p.matches("anything", &vars, false), Some(false));
    }

    #[test]
    fn variables_off_means_literal() {
        let p = Pattern::parse("home/${aws:username}", true, false);
        assert_eq!(p.as_literal(), Some("home/${aws:username}"));
        assert!(!p.has_variables());
        let p = Pattern::parse("${unclosed", true, true);
        assert_eq!(p.as_literal(), Some("${unclosed"));
    }

    #[test]
    fn ignore_case_is_unicode() {
        let p = Pattern::parse("ÄBC", false, true);
        assert_eq!(p.equals_ignore_case("äbc", &NoVars), Some(true));
        assert_eq!(p.equals_ignore_case("äbcd", &NoVars), Some(false));
    }

    /// The ASCII shortcut of `equals_ignore_case` agrees with Unicode lowercasing, on ASCII texts of every length
    /// to 40 and with a non-ASCII character on either side (which takes the general path).
    #[test]
    fn ignore_case_ascii_shortcut_agrees_with_unicode_folding() {
        let alphabet = [
            'a', 'A', 'z', 'Z', '@', '[', '`', '{', '-', '0', ':', 'ä', 'K',
        ];
        let mut next = crate::xorshift(0x2545_f491_4f6c_dd1d);
        for len in 0..=40 {
            for _ in 0..100 {
                let a: String = (0..len)
                    .map(|_| alphabet[next() as usize % alphabet.len()])
                    .collect();
                let flip = |s: &str, k: u64| -> String {
                    s.chars()
                        .enumerate()
                        .map(|(i, c)| match (i as u64 + k) % 3 {
                            0 => c.to_ascii_uppercase(),
                            1 => c.to_ascii_lowercase(),
                            _ => c,
                        })
                        .collect()
                };
                let mut b = flip(&a, next());
                if len > 0 && next() % 2 == 0 {
                    let i = next() as usize % len;
                    b = b
                        .chars()
                        .enumerate()
                        .map(|(j, c)| {
                            if j == i {
                                alphabet[next() as usize % alphabet.len()]
                            } else {
                                c
                            }
                        })
                        .collect();
                }
                let want = a
                    .chars()
                    .flat_map(char::to_lowercase)
                    .eq(b.chars().flat_map(char::to_lowercase));
                let p = Pattern::parse(&a, false, false);
                assert_eq!(
                    p.equals_ignore_case(&b, &NoVars),
                    Some(want),
                    "{a:?} vs {b:?}"
                );
            }
        }
    }

    #[test]
    fn shapes_agree_with_the_atoms() {
        let texts = [
            "",
            "*",
            "**",
            "a",
            "abc*",
            "abc**",
            "*abc",
            "**abc",
            "*a*",
            "a*b",
            "?",
            "a?",
            "?a",
            "*?",
            "?*",
            "$",
            "a$",
            "$*",
            "*$",
            "${x}",
            "a${x}*",
            "*${x}",
            "${*}",
            "a${*}",
            "${*}*",
            "*${?}",
            "a${$}b*",
            "é*",
            "*é",
            "é",
            "${x, 'd'}*",
            "${unclosed*",
            "a*${*}",
        ];
        for t in texts {
            for wildcards in [false, true] {
                for variables in [false, true] {
                    let p = Pattern::parse(t, wildcards, variables);
                    let want = atoms(t, wildcards, variables);
                    assert_eq!(&*p.atoms(), want.as_slice(), "{t} {wildcards} {variables}");
                    assert_eq!(p.shape, Shape::of(want, t), "{t} {wildcards} {variables}");
                    assert_eq!(p.source(), t);
                    let pieces: Vec<String> = p
                        .pieces()
                        .map(|x| match x {
                            Piece::Text(t) => format!("T{t}"),
                            Piece::One => "?".into(),
                            Piece::Star => "*".into(),
                            Piece::Var(k, d) => format!("V{k}{d:?}"),
                        })
                        .collect();
                    let from_atoms: Vec<String> = p
                        .atoms()
                        .iter()
                        .map(|a| match a {
                            Atom::Text(t) => format!("T{t}"),
                            Atom::One => "?".into(),
                            Atom::Star => "*".into(),
                            Atom::Var { key, default } => format!("V{key}{default:?}"),
                        })
                        .collect();
                    assert_eq!(pieces, from_atoms, "{t}");
                }
            }
        }
        assert!(Pattern::parse("**", true, false).is_any());
        assert!(!Pattern::parse("*", false, false).is_any());
    }

    #[test]
    fn adversarial_pattern_is_fast_enough_to_finish() {
        let mut p = "*a".repeat(50);
        p.push_str("*b");
        let v = "a".repeat(100_000);
        assert!(!m(&p, &v));
    }
}
