//! The compiled form of a policy's statements (the IR): what `compile` builds from the AST and what `lower` and
//! `decide` read. Its own module so that `compile` (which builds the IR, then the set's index through `lower`)
//! and `lower` (which reads the IR) import it one way each, not each other.

use crate::policy::action::ActionPattern;
use crate::policy::arn::ArnPattern;
use crate::policy::operator::Operator;
use crate::policy::pattern::Pattern;
use crate::policy::value::{CidrSet, Timestamp};
use crate::policy::{Effect, PrincipalKind};
use std::sync::Arc;

/// A compiled condition: operator, lowercase key, typed values.
#[derive(Debug, Clone)]
pub(crate) struct CCondition {
    pub op: Operator,
    /// Shared with the set's key table (`compile::keys`), which names the key without a copy of its own.
    pub key: Arc<str>,
    /// `text_hash(key)`.
    pub hash: u64,
    pub values: CValues,
}

#[derive(Debug, Clone)]
pub(crate) enum CValues {
    /// StringEquals family: literal patterns (maybe with variables); hashed too when they are many and all
    /// literal.
    Exact(Vec<Pattern>, Option<Arc<LiteralSet>>),
    IgnoreCase(Vec<Pattern>),
    Like(Vec<Pattern>),
    /// `None` for a value that is not a number: it never matches.
    Numeric(Vec<Option<f64>>),
    Date(Vec<Option<Timestamp>>),
    /// Bool values compared case-insensitively with `true`/`false` (variables allowed, §2.3 UNCERTAIN).
    Bool(Vec<Pattern>),
    Binary(Vec<Option<Vec<u8>>>),
    /// Valid CIDRs merged; values that are not CIDRs never match.
    Ip(Arc<CidrSet>),
    Arn(Vec<ArnPattern>),
    /// `Null: true` matches an absent key, `false` a present one; several values are ORed.
    Null {
        when_absent: bool,
        when_present: bool,
    },
}

#[derive(Debug, Clone)]
pub(crate) enum CPrincipal {
    Any,
    Map(Vec<(PrincipalKind, Vec<String>)>),
}

#[derive(Debug, Clone)]
pub(crate) struct CStatement {
    /// Its position in its policy: its id in a set is its policy's first id plus this (see `compile::Placed::id`).
    pub index: usize,
    /// The position of its first condition among its policy's conditions (see `compile::Placed::slot`).
    pub cond_at: usize,
    /// An `Action`/`NotAction` pattern has a wildcard and is not `*`: matching an action the set never names
    /// needs the patterns.
    pub wild: bool,
    pub sid: Option<String>,
    pub effect: Effect,
    /// `(negated, pattern)`: Principal / NotPrincipal.
    pub principal: Option<(bool, CPrincipal)>,
    pub not_action: bool,
    pub actions: Vec<ActionPattern>,
    pub not_resource: bool,
    pub resources: Vec<ArnPattern>,
    pub conditions: Vec<CCondition>,
    /// One bit per service the `Action` patterns name (`service_bit`); every bit when a pattern's service has a
    /// wildcard, or for `NotAction`. A request whose service's bit is clear cannot match an action.
    pub services: u64,
    /// An `Action` pattern is `*`: every action matches (before `not_action`).
    pub any_action: bool,
    /// A `Resource` pattern is `*`: every resource matches (before `not_resource`).
    pub any_resource: bool,
    /// Resource `*`, no principal or `Principal: *`, no condition: the statement applies to every request its
    /// action matches.
    pub unconditional: bool,
}

/// The compiled statements of a policy, shared by every set that uses it.
#[derive(Debug, Clone)]
pub(crate) struct Statements(pub(crate) Arc<[CStatement]>);

impl std::ops::Deref for Statements {
    type Target = [CStatement];
    fn deref(&self) -> &[CStatement] {
        &self.0
    }
}

impl<'a> IntoIterator for &'a Statements {
    type Item = &'a CStatement;
    type IntoIter = std::slice::Iter<'a, CStatement>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// How many 64-bit words an action mask has: sets of up to 256 statements are indexed.
pub(crate) const MASK_WORDS: usize = 4;

/// The longest run of buckets a key may be from its own: beyond it a table is not built (keys crafted to collide
/// would make building it quadratic and lookups linear), and a lookup stops there.
pub(crate) const MAX_PROBE: usize = 64;

/// An open-addressing table of `len` entries keyed by hash: the bucket list, a power of two at least twice
/// `len`, each bucket 0 (empty) or an entry index + 1. `None` when some entry would sit more than [`MAX_PROBE`]
/// buckets from its own.
pub(crate) fn buckets(hashes: impl Iterator<Item = u64>, len: usize) -> Option<Box<[u32]>> {
    let n = (len * 2).next_power_of_two().max(8);
    let mut b = vec![0u32; n];
    for (i, h) in hashes.enumerate() {
        let mut at = h as usize & (n - 1);
        let mut steps = 0;
        while b.get(at).is_some_and(|&x| x != 0) {
            steps += 1;
            if steps > MAX_PROBE {
                return None;
            }
            at = (at + 1) & (n - 1);
        }
        *b.get_mut(at)? = u32::try_from(i + 1).ok()?;
    }
    Some(b.into_boxed_slice())
}

/// The entry index whose hash is `hash` and for which `eq` holds, by linear probing over [`buckets`]: at most
/// [`MAX_PROBE`] buckets past the key's own, since no entry sits farther.
#[inline]
pub(crate) fn probe(
    buckets: &[u32],
    hash: u64,
    mut eq: impl FnMut(usize) -> bool,
) -> Option<usize> {
    let mask = buckets.len().wrapping_sub(1);
    let mut at = hash as usize & mask;
    for _ in 0..=MAX_PROBE {
        match *buckets.get(at)? {
            0 => return None,
            i => {
                let i = i as usize - 1;
                if eq(i) {
                    return Some(i);
                }
            }
        }
        at = (at + 1) & mask;
    }
    None
}

/// The literal values of a `StringEquals`-family condition, hashed: a lookup instead of a scan when a
/// condition lists many values (an allow-list of endpoint ids, accounts or VPCs).
#[derive(Debug, Clone)]
pub(crate) struct LiteralSet {
    buckets: Box<[u32]>,
    /// `(key_hash, text)`.
    texts: Vec<(u64, Box<str>)>,
}

impl LiteralSet {
    /// Below this many values a scan is as fast.
    pub(crate) const MIN: usize = 8;

    /// The set of `ps`, when there are at least [`LiteralSet::MIN`] and each is literal (no variable).
    pub(crate) fn of(ps: &[Pattern]) -> Option<Arc<LiteralSet>> {
        if ps.len() < Self::MIN {
            return None;
        }
        let mut texts: Vec<(u64, Box<str>)> = Vec::with_capacity(ps.len());
        for p in ps {
            let t = p.as_literal()?;
            texts.push((crate::context::key_hash(t.as_bytes()), t.into()));
        }
        Some(Arc::new(LiteralSet {
            buckets: buckets(texts.iter().map(|t| t.0), texts.len())?,
            texts,
        }))
    }

    /// Whether `v` is one of the values, exactly.
    #[inline]
    pub fn contains(&self, v: &str) -> bool {
        let hash = crate::context::key_hash(v.as_bytes());
        probe(&self.buckets, hash, |i| {
            self.texts.get(i).is_some_and(|(h, t)| {
                *h == hash && crate::context::eq_bytes(t.as_bytes(), v.as_bytes())
            })
        })
        .is_some()
    }
}
