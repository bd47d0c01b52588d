//! The form the fast path of `decide` reads: every statement of an indexed set lowered to small flat records
//! (resource test, principal flag, a range of lowered conditions), their literal texts in one byte arena. A
//! decision walks a few contiguous arrays instead of the compiled statements' pointers, which keeps a hot
//! decision short and a cold one (a set decided once, in a sweep over many) to few cache lines.
//!
//! Each lowered test is the rule of `decide::condition_on` / `decide::applies` for one common shape, specialised
//! when the set is built; whatever is not lowered (a principal to match, a resource pattern with wildcards
//! inside or variables, a condition with a qualifier or on a list of values) keeps the statement's id and is
//! decided by the general evaluator. The property tests of tests/it/borrowed.rs hold the two to the same
//! decisions over every policy kind.

use crate::compile::{CCondition, CPrincipal, CStatement, CValues, LiteralSet};
use crate::policy::arn::ArnPattern;
use crate::policy::pattern::Pattern;
use crate::policy::value::CidrSet;
use std::sync::Arc;

/// A statement, lowered.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LStatement {
    /// Applies to every request its action matches.
    pub always: bool,
    pub resource: LResource,
    /// It has a `Principal`/`NotPrincipal` other than `Principal: *`: matched by the general evaluator.
    pub principal: bool,
    /// Its conditions: `conds[start..end]`.
    pub conds: (u32, u32),
}

/// A statement's `Resource` test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LResource {
    /// `Resource: *`.
    Any,
    /// One or more patterns, each literal or a literal followed by one `*`: `texts[start..end]`, each with
    /// whether it is a prefix.
    Literals(u32, u32),
    /// Anything else: the general evaluator's.
    General,
}

/// A condition, lowered.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LCondition {
    /// The key's slot in the set (see `compile::CCondition::slot`).
    pub slot: u32,
    /// `key_hash` of the lowercase key, and the key (`keys[i]`): how an owned context finds it.
    pub hash: u64,
    pub key: u32,
    /// The condition's place: `(statement id, index among its conditions)`, for the general evaluator.
    pub origin: (u32, u32),
    pub negated: bool,
    pub if_exists: bool,
    pub test: LTest,
}

/// What a lowered condition compares a single string value with. Absent keys follow SEMANTICS.md §3.6 for an
/// operator without a qualifier: true with `IfExists` or for a negated operator, false otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LTest {
    /// `Null`: what an absent key gives, what a present one gives.
    Null(bool, bool),
    /// `StringEquals` family, literal values: `texts[start..end]`.
    Literals(u32, u32),
    /// The same, many values: `sets[i]`.
    Set(u32),
    /// `Bool`, literal values: whether `true` matches, whether `false` does.
    Bool(bool, bool),
    /// `IpAddress` family: `cidrs[i]`.
    Ip(u32),
    /// Anything else: the general evaluator's, on the original condition.
    General,
}

/// Every lowered statement of a set, by statement id.
#[derive(Debug, Clone, Default)]
pub(crate) struct Lowered {
    pub statements: Box<[LStatement]>,
    pub conds: Box<[LCondition]>,
    /// `(offset, length)` of each text in `bytes`.
    texts: Box<[(u32, u32, bool)]>,
    bytes: Box<[u8]>,
    pub sets: Box<[Arc<LiteralSet>]>,
    pub cidrs: Box<[Arc<CidrSet>]>,
    /// The conditions' keys, lowercase.
    pub keys: Box<[Box<str>]>,
}

impl Lowered {
    /// Text `i` of the arena, and whether it is a prefix (a resource pattern's).
    #[inline]
    pub fn text(&self, i: u32) -> (&[u8], bool) {
        match self.texts.get(i as usize) {
            Some(&(at, len, prefix)) => (
                self.bytes
                    .get(at as usize..at as usize + len as usize)
                    .unwrap_or_default(),
                prefix,
            ),
            None => (&[], false),
        }
    }

    /// `statements` in id order; `None` when the arena would pass `u32` offsets.
    pub fn build<'a>(statements: impl Iterator<Item = &'a CStatement>) -> Option<Lowered> {
        let mut b = Builder::default();
        let mut out = Vec::new();
        for (id, st) in statements.enumerate() {
            out.push(b.statement(u32::try_from(id).ok()?, st)?);
        }
        Some(Lowered {
            statements: out.into_boxed_slice(),
            conds: b.conds.into_boxed_slice(),
            texts: b.texts.into_boxed_slice(),
            bytes: b.bytes.into_boxed_slice(),
            sets: b.sets.into_boxed_slice(),
            cidrs: b.cidrs.into_boxed_slice(),
            keys: b.keys.into_boxed_slice(),
        })
    }
}

#[derive(Default)]
struct Builder {
    conds: Vec<LCondition>,
    texts: Vec<(u32, u32, bool)>,
    bytes: Vec<u8>,
    sets: Vec<Arc<LiteralSet>>,
    cidrs: Vec<Arc<CidrSet>>,
    keys: Vec<Box<str>>,
}

impl Builder {
    fn text(&mut self, t: &str, prefix: bool) -> Option<u32> {
        let at = u32::try_from(self.bytes.len()).ok()?;
        self.bytes.extend_from_slice(t.as_bytes());
        self.texts.push((at, u32::try_from(t.len()).ok()?, prefix));
        u32::try_from(self.texts.len() - 1).ok()
    }

    fn statement(&mut self, id: u32, st: &CStatement) -> Option<LStatement> {
        let resource = if st.not_resource {
            LResource::General
        } else if st.any_resource {
            LResource::Any
        } else {
            self.resource(&st.resources)?
        };
        let start = u32::try_from(self.conds.len()).ok()?;
        for (i, c) in st.conditions.iter().enumerate() {
            let test = self.test(c)?;
            self.keys.push(c.key.as_str().into());
            let key = u32::try_from(self.keys.len() - 1).ok()?;
            self.conds.push(LCondition {
                slot: u32::try_from(c.slot).ok()?,
                hash: c.hash,
                key,
                origin: (id, u32::try_from(i).ok()?),
                negated: c.op.base.is_negated(),
                if_exists: c.op.if_exists,
                test,
            });
        }
        Some(LStatement {
            always: st.unconditional,
            resource,
            principal: !matches!(st.principal, None | Some((false, CPrincipal::Any))),
            conds: (start, u32::try_from(self.conds.len()).ok()?),
        })
    }

    /// The lowered test of `c`: the shapes [`LTest`] names, each only without a qualifier (but `Null`), with
    /// literal values (no variable).
    fn test(&mut self, c: &CCondition) -> Option<LTest> {
        Some(match &c.values {
            &CValues::Null {
                when_absent,
                when_present,
            } => LTest::Null(when_absent, when_present),
            _ if c.op.qualifier.is_some() => LTest::General,
            // A literal set is built only from literal values.
            CValues::Exact(_, Some(set)) => {
                self.sets.push(Arc::clone(set));
                LTest::Set(u32::try_from(self.sets.len() - 1).ok()?)
            }
            CValues::Exact(ps, None) => match literals(ps) {
                Some(ls) => {
                    let from = u32::try_from(self.texts.len()).ok()?;
                    for l in ls {
                        self.text(l, false)?;
                    }
                    LTest::Literals(from, u32::try_from(self.texts.len()).ok()?)
                }
                None => LTest::General,
            },
            CValues::Bool(ps) => match literals(ps) {
                Some(ls) => {
                    let any = |b: &str| ls.iter().any(|l| l.eq_ignore_ascii_case(b));
                    LTest::Bool(any("true"), any("false"))
                }
                None => LTest::General,
            },
            CValues::Ip(set) => {
                self.cidrs.push(Arc::clone(set));
                LTest::Ip(u32::try_from(self.cidrs.len() - 1).ok()?)
            }
            _ => LTest::General,
        })
    }

    /// The literal (or literal-then-`*`) resource patterns, or `General`.
    fn resource(&mut self, patterns: &[ArnPattern]) -> Option<LResource> {
        let shapes: Option<Vec<(&str, bool)>> = patterns
            .iter()
            .map(|p| match p {
                ArnPattern::Flat(g) => g
                    .as_literal()
                    .map(|l| (l, false))
                    .or_else(|| g.as_prefix().map(|l| (l, true))),
                _ => None,
            })
            .collect();
        let Some(shapes) = shapes.filter(|s| !s.is_empty()) else {
            return Some(LResource::General);
        };
        let from = u32::try_from(self.texts.len()).ok()?;
        for (t, prefix) in shapes {
            self.text(t, prefix)?;
        }
        Some(LResource::Literals(
            from,
            u32::try_from(self.texts.len()).ok()?,
        ))
    }
}

/// Each pattern's literal text, when every one is literal.
fn literals(ps: &[Pattern]) -> Option<Vec<&str>> {
    ps.iter().map(Pattern::as_literal).collect()
}
