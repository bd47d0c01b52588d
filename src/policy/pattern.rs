//! String patterns in policies: literal text, the wildcards `*` and `?`, and policy variables `${key}` with
//! defaults and escapes (docs/SEMANTICS.md §2.1, §2.3).
//!
//! Matching never backtracks across stars and resolves variables from the request as it goes. Its work is linear
//! in the value plus the pattern after variable substitution, times one machine word per 64 bytes of the longest
//! segment with `?` between two stars; a substituted pattern may not exceed [`MAX_EXPANDED_BYTES`], so that
//! factor is at most 128. The common shapes and short segments allocate nothing.

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
use std::sync::Arc;

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
        /// The key, lowercase.
        key: String,
        /// The default value, if written.
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
#[derive(Clone)]
pub struct Pattern {
    /// Shared: a compiled statement's copy of a parsed pattern (an `Action`'s glob) is a count, not a copy of
    /// the text; so is a compiled value or resource written without escapes, which is a slice of its policy's
    /// text (`start..end`).
    source: Arc<str>,
    /// Where the pattern's text lies in `source` (all of it, unless the pattern is a slice of a policy's text).
    // INVARIANT: `start..end` is in bounds of `source` and on char boundaries (checked at construction).
    start: usize,
    end: usize,
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
    /// Anything else: the atoms, for the general matcher; shared, as `source` is, by a compiled statement's
    /// copy of an `Action`'s glob.
    Glob(Arc<[Atom]>),
}

impl Shape {
    fn of(atoms: Vec<Atom>, source: &str) -> Shape {
        match atoms.as_slice() {
            [] if source.is_empty() => Shape::Exact,
            [Atom::Star] => Shape::Any,
            [Atom::Text(t)] if t == source => Shape::Exact,
            [Atom::Text(t), Atom::Star] if source.starts_with(t.as_str()) => Shape::Prefix(t.len()),
            [Atom::Star, Atom::Text(t)] if source.ends_with(t.as_str()) => Shape::Suffix(t.len()),
            _ => Shape::Glob(Arc::from(atoms)),
        }
    }
}

/// The shape of an action's glob as its reader finds it (see [`Pattern::of_action`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GlobShape {
    /// No wildcard.
    Exact,
    /// `*` alone.
    Any,
    /// The first `n` bytes, then stars only.
    Prefix(usize),
    /// Anything else (`?`, a star before other text).
    General,
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
        Pattern::parse_shared(Arc::from(text), wildcards, variables)
    }

    /// [`Pattern::parse`] of `text` lowercased (ASCII), in one allocation.
    pub(crate) fn parse_lowercase(text: &str, wildcards: bool, variables: bool) -> Pattern {
        let mut source: Arc<str> = Arc::from(text);
        match Arc::get_mut(&mut source) {
            Some(s) => s.make_ascii_lowercase(),
            // Not reached: a new `Arc` has one owner. Said all the same, without a panic.
            None => source = Arc::from(text.to_ascii_lowercase()),
        }
        Pattern::parse_shared(source, wildcards, variables)
    }

    /// [`Pattern::parse`] of `sub`, a slice of `t` (all of it, or an ARN's field): a slice of the policy's text
    /// when `t` is one (a count, no copy), else a copy.
    pub(crate) fn parse_within(
        t: &crate::policy::Text,
        sub: &str,
        wildcards: bool,
        variables: bool,
    ) -> Pattern {
        Pattern::parse_within_known(t, sub, wildcards, variables, None)
    }

    /// [`Pattern::parse_within`], given `first_special(sub, wildcards, variables)` when the caller has it
    /// (`Some`): an ARN's reader scans its text once for both.
    pub(crate) fn parse_within_known(
        t: &crate::policy::Text,
        sub: &str,
        wildcards: bool,
        variables: bool,
        first: Option<Option<usize>>,
    ) -> Pattern {
        let at = (sub.as_ptr() as usize).checked_sub(t.as_ptr() as usize);
        match (t.shared_range(), at) {
            (Some((source, start, _)), Some(at)) if at.saturating_add(sub.len()) <= t.len() => {
                let (from, to) = (start + at, start + at + sub.len());
                Pattern::parse_range_known(
                    Arc::clone(source),
                    from,
                    to,
                    wildcards,
                    variables,
                    first,
                )
                .unwrap_or_else(|| Pattern::parse(sub, wildcards, variables))
            }
            _ => Pattern::parse(sub, wildcards, variables),
        }
    }

    /// The glob of an action whose shape its reader found (`action::Usual`): `source[start..end]`, wildcards
    /// on, no variables, of shape `shape` (`General`: parsed into atoms here). The caller has lowercased the
    /// text. `None` when `start..end` is not a slice of `source`.
    pub(crate) fn of_action(
        source: Arc<str>,
        start: usize,
        end: usize,
        shape: GlobShape,
    ) -> Option<Pattern> {
        source.get(start..end)?;
        let shape = match shape {
            GlobShape::Exact => Shape::Exact,
            GlobShape::Any => Shape::Any,
            GlobShape::Prefix(n) => Shape::Prefix(n),
            GlobShape::General => return Pattern::parse_range(source, start, end, true, false),
        };
        Some(Pattern {
            source,
            start,
            end,
            shape,
        })
    }

    /// [`Pattern::parse`] of a text already shared: the pattern keeps it as its source.
    fn parse_shared(text: Arc<str>, wildcards: bool, variables: bool) -> Pattern {
        let end = text.len();
        Pattern::parse_range(text, 0, end, wildcards, variables).unwrap_or_else(|| Pattern {
            // Not reached: all of a `str` is a slice of it.
            source: Arc::from(""),
            start: 0,
            end: 0,
            shape: Shape::Exact,
        })
    }

    /// [`Pattern::parse`] of `source[start..end]`, which the pattern keeps as its text; `None` when that is not
    /// a slice of `source`.
    fn parse_range(
        source: Arc<str>,
        start: usize,
        end: usize,
        wildcards: bool,
        variables: bool,
    ) -> Option<Pattern> {
        Pattern::parse_range_known(source, start, end, wildcards, variables, None)
    }

    /// [`Pattern::parse_range`], with `first_special` of the text when the caller has it (`Some`).
    fn parse_range_known(
        source: Arc<str>,
        start: usize,
        end: usize,
        wildcards: bool,
        variables: bool,
        first: Option<Option<usize>>,
    ) -> Option<Pattern> {
        let text = source.get(start..end)?;
        let b = text.as_bytes();
        let first = first.unwrap_or_else(|| first_special(b, wildcards, variables));
        // The common shapes without building atoms: no special byte at all, or stars only at one end.
        let shape = match first {
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
                (run > 0 && first_special(rest, wildcards, variables).is_none())
                    .then_some(Shape::Suffix(rest.len()))
            }
            Some(_) => None,
        };
        let shape = match shape {
            Some(s) => s,
            // Wildcards without variables: the atoms made straight into their shared slice (the shapes above
            // are every other form they can take, so this is the `Glob` that `Shape::of` would make).
            None if wildcards && !variables => match plain_atoms(text) {
                a if matches!(
                    &*a,
                    [] | [Atom::Star]
                        | [Atom::Text(_)]
                        | [Atom::Text(_), Atom::Star]
                        | [Atom::Star, Atom::Text(_)]
                ) =>
                {
                    Shape::of(a.to_vec(), text)
                }
                a => Shape::Glob(a),
            },
            None => Shape::of(atoms(text, wildcards, variables), text),
        };
        Some(Pattern {
            source,
            start,
            end,
            shape,
        })
    }

    /// The pattern's text.
    #[inline]
    fn text(&self) -> &str {
        self.source.get(self.start..self.end).unwrap_or_default()
    }

    /// The atoms (built for the common shapes, which do not keep them).
    pub fn atoms(&self) -> Cow<'_, [Atom]> {
        let text = |t: &str| Atom::Text(t.to_string());
        match &self.shape {
            Shape::Glob(a) => Cow::Borrowed(a),
            Shape::Any => Cow::Owned(vec![Atom::Star]),
            Shape::Exact if self.start == self.end => Cow::Owned(Vec::new()),
            Shape::Exact => Cow::Owned(vec![text(self.text())]),
            Shape::Prefix(n) => Cow::Owned(vec![text(self.prefix(*n)), Atom::Star]),
            Shape::Suffix(n) => Cow::Owned(vec![Atom::Star, text(self.suffix(*n))]),
        }
    }

    #[inline]
    fn prefix(&self, n: usize) -> &str {
        self.text().get(..n).unwrap_or_default()
    }

    #[inline]
    fn suffix(&self, n: usize) -> &str {
        let t = self.text();
        t.get(t.len().saturating_sub(n)..).unwrap_or_default()
    }

    /// The atoms as pieces, without building any: up to two inline, then the stored ones.
    fn pieces(&self) -> impl Iterator<Item = Piece<'_>> {
        let (inline, stored): ([Option<Piece<'_>>; 2], &[Atom]) = match &self.shape {
            Shape::Glob(a) => ([None, None], a),
            Shape::Any => ([Some(Piece::Star), None], &[]),
            Shape::Exact if self.start == self.end => ([None, None], &[]),
            Shape::Exact => ([Some(Piece::Text(self.text())), None], &[]),
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
        self.text()
    }

    /// Whether it holds a policy variable.
    pub fn has_variables(&self) -> bool {
        match &self.shape {
            Shape::Glob(a) => a.iter().any(|a| matches!(a, Atom::Var { .. })),
            _ => false,
        }
    }

    /// Whether it holds `*` or `?`.
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
            Shape::Exact => Some(self.text()),
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
            Shape::Exact => Some(eq_bytes(v, self.text().as_bytes(), fold_ascii)),
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
            return Some(crate::bytes::eq_ignore_ascii_case(
                l.as_bytes(),
                value.as_bytes(),
            ));
        }
        let mut want = value.chars().flat_map(crate::unicase::lower);
        for piece in self.pieces() {
            let text = match piece {
                Piece::Text(t) => t,
                Piece::Var(key, default) => resolve(vars, key, default)?,
                Piece::Star => "*",
                Piece::One => "?",
            };
            for c in text.chars().flat_map(crate::unicase::lower) {
                if want.next() != Some(c) {
                    return Some(false);
                }
            }
        }
        Some(want.next().is_none())
    }
}

/// The offset of the first byte of `b` that is special in a pattern: `*` or `?` with `wildcards`, `$` with
/// `variables`. Eight bytes at a time (every resource pattern and condition value of a set built to decide once
/// is scanned): all three are ASCII, which in UTF-8 is always that character.
#[inline]
pub(crate) fn first_special(b: &[u8], wildcards: bool, variables: bool) -> Option<usize> {
    use crate::bytes::swar::eq;
    let hits = |w: u64| {
        let mut m = 0;
        if wildcards {
            m |= eq(w, b'*') | eq(w, b'?');
        }
        if variables {
            m |= eq(w, b'$');
        }
        m
    };
    let special = |c: u8| (wildcards && (c == b'*' || c == b'?')) || (variables && c == b'$');
    let mut chunks = b.chunks_exact(8);
    let mut base = 0;
    for c in &mut chunks {
        let w = u64::from_le_bytes(c.try_into().unwrap_or_default());
        let m = hits(w);
        if m != 0 {
            return Some(base + (m.trailing_zeros() / 8) as usize);
        }
        base += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&c| special(c))
        .map(|i| base + i)
}

/// The atoms of `text` (the general case of [`Pattern::parse`]).
fn atoms(text: &str, wildcards: bool, variables: bool) -> Vec<Atom> {
    let mut atoms: Vec<Atom> = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        // Every form `variable` reads starts with `${`: only then is it tried (building its parser makes three
        // atoms, each a `String`).
        if variables && rest.starts_with("${") {
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

/// [`atoms`] of `text` with wildcards and without variables, in one allocation besides the text atoms' own: a
/// run of `*` is one `Star`, `?` is `One`, and the text between them one `Text`.
fn plain_atoms(text: &str) -> Arc<[Atom]> {
    let wild = |c: u8| c == b'*' || c == b'?';
    // The length of the atom at the start of `b` (not empty), and the atom's kind: 0 text, 1 star, 2 one.
    let next = |b: &[u8]| -> (usize, u8) {
        match b.first() {
            Some(b'*') => (b.iter().position(|&c| c != b'*').unwrap_or(b.len()), 1),
            Some(b'?') => (1, 2),
            _ => (b.iter().position(|&c| wild(c)).unwrap_or(b.len()), 0),
        }
    };
    let mut count = 0;
    let mut at = 0;
    while let Some(rest) = b_from(text, at) {
        at += next(rest).0;
        count += 1;
    }
    let mut at = 0;
    // An exact-size iterator: the slice is allocated once, at its length. `*`, `?` and the cuts are ASCII, so
    // every cut is a char boundary.
    (0..count)
        .map(|_| {
            let rest = b_from(text, at).unwrap_or_default();
            let (n, kind) = next(rest);
            let atom = match kind {
                1 => Atom::Star,
                2 => Atom::One,
                _ => Atom::Text(text.get(at..at + n).unwrap_or_default().to_string()),
            };
            at += n;
            atom
        })
        .collect()
}

/// The bytes of `text` from `at`; `None` at the end.
fn b_from(text: &str, at: usize) -> Option<&[u8]> {
    text.as_bytes().get(at..).filter(|r| !r.is_empty())
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text())
    }
}

/// By text and shape: where the text is kept (a slice of which policy's text, or a copy) does not count.
impl PartialEq for Pattern {
    fn eq(&self, other: &Pattern) -> bool {
        self.text() == other.text() && self.shape == other.shape
    }
}

impl Eq for Pattern {}

impl fmt::Debug for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pattern")
            .field("source", &self.text())
            .field("shape", &self.shape)
            .finish()
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

/// The longest a pattern with policy variables may grow once its variables are substituted: 8 KiB, the default
/// pattern limit (`Limits::max_pattern_bytes`). A pattern whose expansion is longer matches nothing, exactly like
/// a pattern whose variable the request lacks (`None` from [`Pattern::matches`]; docs/SEMANTICS.md §9 row 37). This bounds the work of one match by a small multiple of the value's length.
pub const MAX_EXPANDED_BYTES: usize = 8 * 1024;

/// A segment (text between two stars) at most this long after expansion is searched by trying each start: the
/// cheapest way for the short segments of real policies, and still linear (at most this many steps per byte).
const SHORT_SEGMENT: usize = 32;

#[cfg(test)]
thread_local! {
    /// Work done by the matcher on this thread: bytes compared or scanned, machine words stepped.
    static STEPS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Count `n` steps of matcher work (tests only: compiled away otherwise).
#[inline(always)]
fn tick(n: usize) {
    #[cfg(test)]
    STEPS.with(|s| s.set(s.get() + n as u64));
    #[cfg(not(test))]
    let _ = n;
}

/// The matcher's work on this thread since the last call (tests only).
#[cfg(test)]
pub(crate) fn take_steps() -> u64 {
    STEPS.with(|s| s.replace(0))
}

/// Glob match over bytes: segments between stars are anchored (first, last) or found at their earliest end
/// (middle). Placing each middle segment where it ends first is optimal for star-separated globs, so no
/// backtracking is needed. Each middle segment is found in time linear in the part of the value it scans:
/// short segments by trying each start, longer ones without `?` by Knuth-Morris-Pratt, longer ones with `?` by a
/// bit-parallel automaton (one machine word per 64 bytes of segment, at most [`MAX_EXPANDED_BYTES`] / 64).
// Out of line: inlined, it would burden the fast paths of `matches_bytes` with its prologue.
#[inline(never)]
fn glob(atoms: &[Atom], value: &[u8], vars: &dyn Vars, fold: bool) -> Option<bool> {
    if atoms.iter().any(|a| matches!(a, Atom::Var { .. }))
        && expanded_len(atoms, vars) > MAX_EXPANDED_BYTES
    {
        return None;
    }
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
        let hay = value.get(pos..tail_start).unwrap_or_default();
        match find(segment, hay, vars, fold)? {
            Some(end) => pos += end,
            None => return Some(false),
        }
    }
    Some(true)
}

/// The length of `atoms` with their variables substituted (a missing variable counts nothing: matching reports
/// it), each `?` counted as one byte.
fn expanded_len(atoms: &[Atom], vars: &dyn Vars) -> usize {
    atoms
        .iter()
        .map(|a| match a {
            Atom::Text(t) => t.len(),
            Atom::Var { key, default } => {
                resolve(vars, key, default.as_deref()).map_or(0, str::len)
            }
            Atom::One | Atom::Star => 1,
        })
        .sum()
}

/// The end of the earliest-ending occurrence of the star-free `segment` in `hay` (which starts and ends on
/// character boundaries); `Some(None)` when there is none, `None` when a variable is missing.
fn find(segment: &[Atom], hay: &[u8], vars: &dyn Vars, fold: bool) -> Option<Option<usize>> {
    if expanded_len(segment, vars) <= SHORT_SEGMENT {
        // Each start in turn. A text starts on a character boundary, so only `?` needs the boundary check.
        let mut start = 0;
        while start <= hay.len() {
            if hay.get(start).is_none_or(|b| (b & 0xc0) != 0x80) {
                tick(SHORT_SEGMENT);
                if let Some(end) = match_at(segment, hay, start, vars, fold)? {
                    return Some(Some(end));
                }
            }
            start += 1;
        }
        return Some(None);
    }
    // Expand into bytes, `None` standing for `?`.
    let mut symbols: Vec<Option<u8>> = Vec::new();
    for a in segment {
        match a {
            Atom::Text(t) => symbols.extend(t.bytes().map(Some)),
            Atom::Var { key, default } => {
                symbols.extend(resolve(vars, key, default.as_deref())?.bytes().map(Some));
            }
            Atom::One => symbols.push(None),
            Atom::Star => return Some(None),
        }
    }
    let fold = |b: u8| if fold { b.to_ascii_lowercase() } else { b };
    if symbols.iter().all(Option::is_some) {
        let needle: Vec<u8> = symbols.into_iter().flatten().map(fold).collect();
        Some(kmp(&needle, hay, fold))
    } else {
        Some(shift_and(&symbols, hay, fold))
    }
}

/// Knuth-Morris-Pratt: the end of the first occurrence of `needle` (already passed through `fold`) in `hay`.
/// At most two steps per byte of each.
fn kmp(needle: &[u8], hay: &[u8], fold: impl Fn(u8) -> u8) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    // fail[i]: the length of the longest proper border of needle[..=i].
    let mut fail = vec![0usize; needle.len()];
    let mut k = 0usize;
    for (i, &c) in needle.iter().enumerate().skip(1) {
        tick(1);
        while k > 0 && needle.get(k) != Some(&c) {
            tick(1);
            k = fail.get(k - 1).copied().unwrap_or(0);
        }
        if needle.get(k) == Some(&c) {
            k += 1;
        }
        if let Some(f) = fail.get_mut(i) {
            *f = k;
        }
    }
    let mut k = 0usize;
    for (i, &b) in hay.iter().enumerate() {
        tick(1);
        let c = fold(b);
        while k > 0 && needle.get(k) != Some(&c) {
            tick(1);
            k = fail.get(k - 1).copied().unwrap_or(0);
        }
        if needle.get(k) == Some(&c) {
            k += 1;
        }
        if k == needle.len() {
            return Some(i + 1);
        }
    }
    None
}

/// Shift-and over bytes: the end of the earliest-ending occurrence of `symbols` (bytes, `None` for `?`) in
/// `hay`. State bit `j` says symbols `..=j` match the text just read; a `?` takes one lead byte and then stays
/// set over the character's continuation bytes. `ceil(symbols / 64)` word steps per byte of `hay`.
fn shift_and(symbols: &[Option<u8>], hay: &[u8], fold: impl Fn(u8) -> u8) -> Option<usize> {
    let m = symbols.len();
    let Some(last) = m.checked_sub(1) else {
        return Some(0);
    };
    let words = m.div_ceil(64);
    // masks[b]: the symbols that are byte `b`; any: the `?` symbols.
    let mut masks = vec![0u64; 256 * words];
    let mut any = vec![0u64; words];
    for (j, s) in symbols.iter().enumerate() {
        let (w, bit) = (j / 64, 1u64 << (j % 64));
        match s {
            Some(b) => {
                for c in [*b, b.to_ascii_uppercase(), b.to_ascii_lowercase()] {
                    if fold(c) == fold(*b) {
                        if let Some(x) = masks.get_mut(usize::from(c) * words + w) {
                            *x |= bit;
                        }
                    }
                }
            }
            None => {
                if let Some(x) = any.get_mut(w) {
                    *x |= bit;
                }
            }
        }
    }
    let (accept_word, accept_bit) = (last / 64, 1u64 << (last % 64));
    let mut state = vec![0u64; words];
    for (i, &b) in hay.iter().enumerate() {
        tick(words);
        let start = usize::from(b) * words;
        let mask = masks.get(start..start + words).unwrap_or_default();
        let continuation = (b & 0xc0) == 0x80;
        let mut carry = 1u64;
        for ((d, &mk), &q) in state.iter_mut().zip(mask).zip(&any) {
            let shifted = (*d << 1) | carry;
            carry = *d >> 63;
            *d = if continuation {
                (shifted & mk) | (*d & q)
            } else {
                shifted & (mk | q)
            };
        }
        let done = state.get(accept_word).is_some_and(|d| d & accept_bit != 0);
        // A trailing `?` ends with its character: not before a continuation byte.
        if done && hay.get(i + 1).is_none_or(|n| (n & 0xc0) != 0x80) {
            return Some(i + 1);
        }
    }
    None
}

#[inline]
fn eq_bytes(a: &[u8], b: &[u8], fold: bool) -> bool {
    if fold {
        crate::bytes::eq_ignore_ascii_case(a, b)
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
        tick(text.len());
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
        tick(text.len());
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
    /// The atoms made straight into their slice are `atoms`' (wildcards, no variables), for every text of up to
    /// five characters over those that matter.
    #[test]
    fn cold7_plain_atoms_are_the_atoms() {
        let alphabet = ['a', 'Z', '*', '?', '$', '{', '}', '\\', 'é', '/'];
        let mut last = vec![String::new()];
        let mut seen = 0;
        for _ in 0..5 {
            let next: Vec<String> = last
                .iter()
                .flat_map(|t| alphabet.iter().map(move |c| format!("{t}{c}")))
                .collect();
            for t in &next {
                assert_eq!(&*plain_atoms(t), atoms(t, true, false).as_slice(), "{t:?}");
                let p = Pattern::parse(t, true, false);
                assert_eq!(p.shape, Shape::of(atoms(t, true, false), t), "{t:?}");
                seen += usize::from(matches!(p.shape, Shape::Glob(_)));
            }
            last = next;
        }
        assert!(seen > 10_000, "{seen}");
    }

    use super::*;
    use std::collections::HashMap;

    #[test]
    fn cold6_first_special_finds_what_a_byte_scan_finds() {
        let naive = |b: &[u8], w: bool, v: bool| {
            b.iter()
                .position(|&c| (w && (c == b'*' || c == b'?')) || (v && c == b'$'))
        };
        // Every length up to three words, each special byte (and bytes one off from them, and a non-ASCII
        // character) at every place, alone and after another.
        for len in 0..26 {
            for c in [b'*', b'?', b'$', b')', b'+', b'>', b'@', b'#', b'%', 0xaa] {
                for at in 0..len {
                    for second in [None, Some(b'*'), Some(b'$')] {
                        let mut b = vec![b'a'; len];
                        b[at] = c;
                        if let Some(s) = second {
                            b[len - 1] = s;
                        }
                        for (w, v) in [(true, true), (true, false), (false, true), (false, false)] {
                            assert_eq!(first_special(&b, w, v), naive(&b, w, v), "{b:?} {w} {v}");
                        }
                    }
                }
            }
        }
        let t = "arn:aws:s3:::é/${aws:username}/*";
        assert_eq!(first_special(t.as_bytes(), true, true), t.find('$'));
        assert_eq!(first_special(t.as_bytes(), true, false), t.find('*'));
    }

    /// `parse_lowercase` is `parse` of the lowercased text, shape and matching included; a clone (a compiled
    /// statement's copy of an action's glob) shares the text instead of copying it.
    #[test]
    fn lowercase_patterns_parse_as_their_lowercase_text_and_clones_share_it() {
        for t in [
            "S3:GetObject",
            "SageMaker:Create*",
            "*:Describe*",
            "iam:*Role",
            "A?b*C",
            "",
            "*",
        ] {
            let lower = Pattern::parse_lowercase(t, true, false);
            assert_eq!(
                lower,
                Pattern::parse(&t.to_ascii_lowercase(), true, false),
                "{t}"
            );
            assert_eq!(
                lower.matches(&t.to_ascii_lowercase(), &NoVars, false),
                Some(true),
                "{t}"
            );
            let copy = lower.clone();
            assert!(std::ptr::eq(
                copy.source().as_ptr(),
                lower.source().as_ptr()
            ));
        }
    }

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

    /// A memoised matcher over characters, the reference: `?` is one character, `*` any run; ASCII letters fold
    /// when `fold`.
    fn reference(p: &str, v: &str, fold: bool) -> bool {
        let p: Vec<char> = p.chars().collect();
        let v: Vec<char> = v.chars().collect();
        let eq = |a: char, b: char| {
            if fold {
                a.eq_ignore_ascii_case(&b)
            } else {
                a == b
            }
        };
        // ok[j]: the pattern's first i symbols match the value's first j characters.
        let mut ok = vec![false; v.len() + 1];
        ok[0] = true;
        for &c in &p {
            let mut next = vec![false; v.len() + 1];
            for j in 0..=v.len() {
                next[j] = match c {
                    '*' => ok[j] || (j > 0 && next[j - 1]),
                    '?' => j > 0 && ok[j - 1],
                    c => j > 0 && ok[j - 1] && eq(c, v[j - 1]),
                };
            }
            ok = next;
        }
        ok[v.len()]
    }

    /// A pattern of star-separated segments, some longer than the short-segment search takes, over a small
    /// alphabet with a multi-byte character, and a value over the same alphabet.
    fn pattern_and_value() -> impl proptest::strategy::Strategy<Value = (String, String, bool)> {
        use proptest::prelude::*;
        let symbol = prop::sample::select(vec!['a', 'A', 'b', 'é', '?', '?']);
        let segment = prop::collection::vec(symbol, 0..80).prop_map(|s| s.into_iter().collect());
        let pattern = prop::collection::vec(segment, 1..5).prop_map(|s: Vec<String>| s.join("*"));
        let value = prop::collection::vec(prop::sample::select(vec!['a', 'b', 'B', 'é']), 0..300)
            .prop_map(|s| s.into_iter().collect());
        (pattern, value, any::<bool>())
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(400))]

        /// Every way of finding a segment (each start, Knuth-Morris-Pratt, shift-and) agrees with the reference,
        /// with and without ASCII case folding; so does a value built to match.
        #[test]
        fn glob_agrees_with_the_reference((p, v, fold) in pattern_and_value()) {
            let pat = Pattern::parse(&p, true, false);
            proptest::prop_assert_eq!(pat.matches(&v, &NoVars, fold), Some(reference(&p, &v, fold)), "{} vs {}", p, v);
            let matching: String = p.chars().map(|c| match c {
                '*' => "bé".to_string(),
                '?' => "é".to_string(),
                c => c.to_string(),
            }).collect();
            proptest::prop_assert_eq!(pat.matches(&matching, &NoVars, false), Some(true), "{} vs {}", p, matching);
        }

        /// The matcher's work grows linearly with the value: at most [`work_bound`] steps, for random patterns
        /// against values made of many copies of a random unit (the shape that made the old search quadratic).
        #[test]
        fn glob_work_is_linear((p, unit, fold) in pattern_and_value(), copies in 1usize..200) {
            let v = unit.repeat(copies);
            let pat = Pattern::parse(&p, true, false);
            take_steps();
            let _ = pat.matches(&v, &NoVars, fold);
            let steps = take_steps();
            proptest::prop_assert!(steps <= work_bound(&p, &v), "{} steps for {} vs {} bytes", steps, p, v.len());
        }
    }

    /// The documented bound on one match: each byte of pattern and value costs at most the short-segment search's
    /// two passes, or one step per 64-byte word of the longest segment.
    fn work_bound(pattern: &str, value: &str) -> u64 {
        let longest = pattern.split('*').map(str::len).max().unwrap_or(0);
        let per_byte = 2 * SHORT_SEGMENT + 2 + longest.div_ceil(64);
        ((pattern.len() + value.len() + 1) * per_byte) as u64
    }

    /// Issue 14's plain reproduction: `*` + `?a`×4094 + `?b*` (8 KiB) against 500 KB. Trying each start costs
    /// pattern × value (6.4 s); the automaton costs 128 word steps per byte.
    #[test]
    fn long_segment_with_question_marks_is_linear_in_the_value() {
        let p = format!("*{}?b*", "?a".repeat(4094));
        assert_eq!(p.len(), 8192);
        let pat = Pattern::parse(&p, true, false);
        let v = "a".repeat(500_000);
        take_steps();
        assert_eq!(pat.matches(&v, &NoVars, false), Some(false));
        let steps = take_steps();
        assert!(steps <= 500_000 * 130 + 20_000, "{steps}");
        assert!(steps <= work_bound(&p, &v));
        // And it finds an occurrence at the very end.
        let v = format!("{}{}", "a".repeat(500_000), "xa".repeat(4094) + "xb");
        assert_eq!(pat.matches(&v, &NoVars, false), Some(true));
    }

    /// Issue 14's variable reproduction: `*${aws:userid, 'x'}*` whose value is 600 KB expands past
    /// [`MAX_EXPANDED_BYTES`] and matches nothing (as a missing variable), at no cost; one just under the bound is
    /// found by Knuth-Morris-Pratt in steps linear in the value.
    #[test]
    fn expansion_is_bounded_and_long_texts_are_searched_linearly() {
        let p = Pattern::parse("*${aws:userid, 'x'}*", true, true);
        let big = "a".repeat(600_000);
        let vars = Map(HashMap::from([("aws:userid".into(), big.clone())]));
        take_steps();
        assert_eq!(p.matches(&big, &vars, false), None);
        assert!(take_steps() < 100);
        let near: String = "a".repeat(MAX_EXPANDED_BYTES - 3) + "b";
        let vars = Map(HashMap::from([("aws:userid".into(), near.clone())]));
        assert_eq!(p.matches(&big, &vars, false), Some(false));
        let steps = take_steps();
        assert!(
            steps <= 2 * (600_000 + MAX_EXPANDED_BYTES as u64) + 100,
            "{steps}"
        );
        let hit = format!("{big}{near}{big}");
        assert_eq!(p.matches(&hit, &vars, false), Some(true));
        // Exactly at the bound still matches; one byte over matches nothing.
        let p = Pattern::parse("${k}", true, true);
        let at = "a".repeat(MAX_EXPANDED_BYTES);
        let vars = Map(HashMap::from([("k".into(), at.clone())]));
        assert_eq!(p.matches(&at, &vars, false), Some(true));
        let over = "a".repeat(MAX_EXPANDED_BYTES + 1);
        let vars = Map(HashMap::from([("k".into(), over.clone())]));
        assert_eq!(p.matches(&over, &vars, false), None);
    }

    /// A trailing `?` in a long segment takes a whole multi-byte character, and ASCII folding applies to the
    /// automaton's texts.
    #[test]
    fn long_segment_question_mark_takes_whole_characters() {
        let seg = "x".repeat(40);
        let p = Pattern::parse(&format!("*{seg}?*z"), true, false);
        assert_eq!(p.matches(&format!("a{seg}éz"), &NoVars, false), Some(true));
        assert_eq!(p.matches(&format!("a{seg}z"), &NoVars, false), Some(false));
        let upper = seg.to_ascii_uppercase();
        assert_eq!(p.matches(&format!("a{upper}éz"), &NoVars, true), Some(true));
        assert_eq!(
            p.matches(&format!("a{upper}éz"), &NoVars, false),
            Some(false)
        );
    }

    #[test]
    fn adversarial_pattern_is_fast_enough_to_finish() {
        let mut p = "*a".repeat(50);
        p.push_str("*b");
        let v = "a".repeat(100_000);
        assert!(!m(&p, &v));
    }
}
