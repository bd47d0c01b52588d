//! The form the fast path of `decide` reads.
//!
//! - Every statement of an indexed set is lowered to a small record: whether it applies to every request its
//!   action matches, its resource test, whether a principal must be matched, and its conditions, each holding
//!   what its test reads (literal texts, a hashed set, a CIDR table).
//! - For each action the set names, a [`Plan`] lists what the action meets: the Deny statements, then each gate's
//!   Allows, what the action alone settles (whether RCPs govern it, a gate passed unconditionally) settled when the set
//!   is built. The gates themselves are applied by `decide::walk::evaluate`, the one walk every path takes; a plan is
//!   only how the fast path reaches statements.
//!
//! Each lowered test is the leaf of `decide::condition::matches_any` for one common shape, specialised when the set is
//! built, under the one condition kernel (`decide::condition::kernel`); whatever is not lowered (a principal to match,
//! a resource pattern with wildcards inside or variables, a condition with a qualifier or on a list of values) keeps
//! the statement's id and is decided by the general evaluator. The property tests of tests/it/borrowed.rs hold the two
//! to the same decisions over every policy kind, and `per_action_plans_decide_as_the_full_path` the plans to the gates
//! of docs/SEMANTICS.md §4.

use crate::ir::{CCondition, CPrincipal, CStatement, CValues, LiteralSet};
use crate::policy::arn::ArnPattern;
use crate::policy::pattern::Pattern;
use crate::policy::value::CidrSet;
use std::sync::Arc;

/// A statement, lowered. Each record holds what its test reads (texts, sets, tables) itself, so that a decision
/// follows one pointer per test and keeps few of the set's tables at hand.
#[derive(Debug, Clone)]
pub(crate) struct LStatement {
    /// Applies to every request its action matches.
    pub always: bool,
    /// It has a `Principal`/`NotPrincipal` other than `Principal: *`: matched by the general evaluator.
    pub principal: bool,
    pub resource: LResource,
    pub conds: Box<[LCondition]>,
}

/// A statement's `Resource` test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LResource {
    /// `Resource: *`.
    Any,
    /// One or more patterns, each literal or a literal followed by one `*`.
    Literals(Box<[LLiteral]>),
    /// Anything else: the general evaluator's.
    General,
}

/// A literal resource pattern, or a literal followed by one `*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LLiteral {
    pub text: Box<[u8]>,
    /// The pattern is `text` then `*`: it matches every resource that starts with `text`.
    pub prefix: bool,
    /// Where the account field of every resource the pattern matches lies (`start..end`), when `text` holds the
    /// ARN's fifth colon and the field is not empty; `(0, 0)` otherwise. A matched resource shares the first
    /// `text.len()` bytes, so its account field is there too: the decision reads it without looking for colons.
    pub account: (u16, u16),
}

impl LLiteral {
    fn new(text: &str, prefix: bool) -> LLiteral {
        let account = crate::policy::arn::first_colons(text.as_bytes())
            .and_then(|[_, _, _, d, e]| Some((u16::try_from(d + 1).ok()?, u16::try_from(e).ok()?)))
            .filter(|(start, end)| start < end)
            .unwrap_or((0, 0));
        LLiteral {
            text: text.as_bytes().into(),
            prefix,
            account,
        }
    }
}

/// A condition, lowered.
#[derive(Debug, Clone)]
pub(crate) struct LCondition {
    /// The key's slot in the set (see `compile::Placed::slot`).
    pub slot: u32,
    pub negated: bool,
    pub if_exists: bool,
    /// `context::text_hash` of the lowercase key, and the key: how an owned context finds it.
    pub hash: u64,
    pub key: Box<str>,
    /// The condition's place: `(statement id, index among its conditions)`, for the general evaluator.
    pub origin: (u32, u32),
    pub test: LTest,
}

/// What a lowered condition compares a single string value with. Absent keys follow docs/SEMANTICS.md §3.6 for an
/// operator without a qualifier: true with `IfExists` or for a negated operator, false otherwise.
#[derive(Debug, Clone)]
pub(crate) enum LTest {
    /// `Null`: what an absent key gives, what a present one gives.
    Null(bool, bool),
    /// `StringEquals` family, literal values.
    Literals(Box<[Box<[u8]>]>),
    /// The same, many values.
    Set(Arc<LiteralSet>),
    /// `Bool`, literal values: whether `true` matches, whether `false` does.
    Bool(bool, bool),
    /// `IpAddress` family.
    Ip(Arc<CidrSet>),
    /// Anything else: the general evaluator's, on the original condition.
    General,
}

impl LStatement {
    /// A rough measure of what deciding the statement costs (one unit about a word compare), to try the
    /// cheaper first where any one decides: a plan's Deny statements, a gate's Allows.
    pub fn cost(&self) -> u32 {
        if self.always {
            return 0;
        }
        let principal = if self.principal { GENERAL } else { 0 };
        let resource = match &self.resource {
            LResource::Any => 0,
            LResource::Literals(ts) => 1 + u32::try_from(ts.len()).unwrap_or(u32::MAX),
            LResource::General => GENERAL,
        };
        self.conds
            .iter()
            .map(LCondition::cost)
            .fold(principal.saturating_add(resource), u32::saturating_add)
    }
}

/// The cost of a test that the general evaluator decides.
const GENERAL: u32 = 16;

impl LCondition {
    /// The cost of the condition, as [`LStatement::cost`] counts it.
    fn cost(&self) -> u32 {
        match &self.test {
            LTest::Null(..) => 1,
            LTest::Bool(..) => 2,
            LTest::Literals(ts) => 1 + u32::try_from(ts.len()).unwrap_or(u32::MAX),
            LTest::Set(_) => 5,
            LTest::Ip(_) => 6,
            LTest::General => GENERAL,
        }
    }
}

/// Every lowered statement of a set, by statement id.
#[derive(Debug, Clone, Default)]
pub(crate) struct Lowered {
    pub statements: Box<[LStatement]>,
}

impl Lowered {
    /// `statements` in id order, each with its conditions' slots; `None` when an id or index would pass `u32`.
    pub fn build<'a>(
        statements: impl Iterator<Item = (&'a CStatement, &'a [u32])>,
    ) -> Option<Lowered> {
        Some(Lowered {
            statements: statements
                .enumerate()
                .map(|(id, (st, slots))| statement(u32::try_from(id).ok()?, st, slots))
                .collect::<Option<_>>()?,
        })
    }
}

fn statement(id: u32, st: &CStatement, slots: &[u32]) -> Option<LStatement> {
    let resource = if st.not_resource {
        LResource::General
    } else if st.any_resource {
        LResource::Any
    } else {
        resource(&st.resources)
    };
    let mut conds = st
        .conditions
        .iter()
        .enumerate()
        .map(|(i, c)| {
            Some(LCondition {
                slot: *slots.get(i)?,
                negated: c.op.base.is_negated(),
                if_exists: c.op.if_exists,
                hash: c.hash,
                key: Box::from(&*c.key),
                origin: (id, u32::try_from(i).ok()?),
                test: test(c),
            })
        })
        .collect::<Option<Vec<_>>>()?;
    // The conditions are ANDed: the cheaper are tried first, to stop sooner.
    crate::sort::stable_by_key(&mut conds, LCondition::cost);
    Some(LStatement {
        always: st.unconditional,
        principal: !matches!(st.principal, None | Some((false, CPrincipal::Any))),
        resource,
        conds: conds.into_boxed_slice(),
    })
}

/// The lowered test of `c`: the shapes [`LTest`] names, each only without a qualifier (but `Null`), with literal
/// values (no variable).
fn test(c: &CCondition) -> LTest {
    let text = |ls: Vec<&str>| ls.into_iter().map(|l| l.as_bytes().into()).collect();
    match &c.values {
        &CValues::Null {
            when_absent,
            when_present,
        } => LTest::Null(when_absent, when_present),
        _ if c.op.qualifier.is_some() => LTest::General,
        // A literal set is built only from literal values.
        CValues::Exact(_, Some(set)) => LTest::Set(Arc::clone(set)),
        CValues::Exact(ps, None) => {
            literals(ps).map_or(LTest::General, |ls| LTest::Literals(text(ls)))
        }
        CValues::Bool(ps) => match literals(ps) {
            Some(ls) => {
                let any = |b: &str| ls.iter().any(|l| l.eq_ignore_ascii_case(b));
                LTest::Bool(any("true"), any("false"))
            }
            None => LTest::General,
        },
        CValues::Ip(set) => LTest::Ip(Arc::clone(set)),
        _ => LTest::General,
    }
}

/// The literal (or literal-then-`*`) resource patterns, or `General`.
fn resource(patterns: &[ArnPattern]) -> LResource {
    let shapes: Option<Vec<LLiteral>> = patterns
        .iter()
        .map(|p| match p {
            ArnPattern::Flat(g) => g
                .as_literal()
                .map(|l| LLiteral::new(l, false))
                .or_else(|| g.as_prefix().map(|l| LLiteral::new(l, true))),
            _ => None,
        })
        .collect();
    match shapes.filter(|s| !s.is_empty()) {
        Some(s) => LResource::Literals(s.into_boxed_slice()),
        None => LResource::General,
    }
}

/// Each pattern's literal text, when every one is literal.
fn literals(ps: &[Pattern]) -> Option<Vec<&str>> {
    ps.iter().map(Pattern::as_literal).collect()
}

/// What one action meets in a set, gate by gate: the statements the fast path of `decide` visits for a request
/// with that action, everything settled by the action alone settled when the set is built. Ids are statement ids,
/// in [`Plans::ids`], and so are the gates' ranges, as pairs: a plan's lists and gates lie together there, read in
/// one or two cache lines. A plan only says how to reach statements: what the gates make of them is
/// `decide::walk::evaluate`'s, as for every walk.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Plan {
    /// The Deny statements whose action matches, RCPs' apart.
    pub deny: (u32, u32),
    /// The Deny statements of RCPs whose action matches (they count only where RCPs govern the action).
    pub rcp_deny: (u32, u32),
    /// Whether RCPs govern the action (`rules::rcp_governs`, settled once).
    pub rcps_govern: bool,
    /// Bit `k` for each gate of ordinal `k` below 64 whose pair is [`ALWAYS`]: read without a load.
    pub always: u64,
    /// Where the gates' Allows start in `ids`: one pair per gate, in [`gate_ordinal`] order, either
    /// [`ALWAYS`] (an Allow applies to every request with the action) or the range of `ids` of its Allows.
    pub gates: u32,
}

/// The first half of a gate's pair in a plan when one of its Allows applies to every request with the action.
pub(crate) const ALWAYS: u32 = u32::MAX;

/// A gate's place among a plan's gate pairs: the SCP levels (`0..scp_levels`), then identity, resource,
/// boundary, session and endpoint, whether the set has them or not.
#[inline]
pub(crate) fn gate_ordinal(gate: crate::rules::Gate, scp_levels: usize) -> usize {
    use crate::rules::Gate;
    match gate {
        Gate::Scp(l) => l,
        Gate::Identity => scp_levels,
        Gate::Resource => scp_levels + 1,
        Gate::Boundary => scp_levels + 2,
        Gate::Session => scp_levels + 3,
        Gate::Endpoint => scp_levels + 4,
    }
}

/// The plans of one set: their statement ids and gate ranges in one arena.
#[derive(Debug, Clone, Default)]
pub(crate) struct Plans {
    pub ids: Box<[u32]>,
}

/// Builds [`Plan`]s into [`Plans`].
pub(crate) struct PlanBuilder {
    ids: Vec<u32>,
    /// [`LStatement::cost`] by statement id: each list of ids is ordered by it (then by id), since any one
    /// statement of a list decides.
    costs: Box<[u32]>,
}

/// Statements of a set, one bit per statement id (as the action index keeps them).
pub(crate) type Mask = [u64; crate::ir::MASK_WORDS];

impl PlanBuilder {
    /// A builder for the set whose statements are `lowered`.
    pub fn new(lowered: &Lowered) -> PlanBuilder {
        PlanBuilder {
            ids: Vec::new(),
            costs: lowered.statements.iter().map(LStatement::cost).collect(),
        }
    }

    /// The plan of an action whose matching statements are `mask`. `deny` and `rcp_deny` are the set's Deny
    /// statements (RCPs' apart), `allow` and `always` its Allow and unconditional Allow statements, `gates` the
    /// statements of each gate in [`gate_ordinal`] order (`None` for a gate the set lacks), `rcps_govern` whether
    /// RCPs govern the action. `None` when an id would pass `u32`.
    pub fn plan(
        &mut self,
        mask: &Mask,
        (deny, rcp_deny): (&Mask, &Mask),
        (allow, always): (&Mask, &Mask),
        gates: &[Option<&Mask>],
        rcps_govern: bool,
    ) -> Option<Plan> {
        let deny = self.ids_of(&and(mask, deny))?;
        let rcp_deny = self.ids_of(&and(mask, rcp_deny))?;
        let allow = and(mask, allow);
        let always = and(mask, always);
        let pairs: Vec<(u32, u32)> = gates
            .iter()
            .map(|g| match g {
                None => Some((0, 0)),
                Some(g) if and(&always, g).iter().any(|&w| w != 0) => Some((ALWAYS, 0)),
                Some(g) => self.ids_of(&and(&allow, g)),
            })
            .collect::<Option<_>>()?;
        let at = u32::try_from(self.ids.len()).ok()?;
        let always = pairs
            .iter()
            .enumerate()
            .take(64)
            .filter(|(_, p)| p.0 == ALWAYS)
            .fold(0u64, |m, (k, _)| m | 1 << k);
        self.ids.extend(pairs.into_iter().flat_map(|(a, b)| [a, b]));
        Some(Plan {
            deny,
            rcp_deny,
            rcps_govern,
            always,
            gates: at,
        })
    }

    /// The ids of `m`, cheapest first (then in id order), as a range of the arena.
    fn ids_of(&mut self, m: &Mask) -> Option<(u32, u32)> {
        let from = self.ids.len();
        for (k, &word) in m.iter().enumerate() {
            let mut w = word;
            while w != 0 {
                self.ids
                    .push(u32::try_from(k * 64 + w.trailing_zeros() as usize).ok()?);
                w &= w - 1;
            }
        }
        let costs = &self.costs;
        if let Some(list) = self.ids.get_mut(from..) {
            crate::sort::stable_by_key(list, |&id| {
                costs.get(id as usize).copied().unwrap_or(u32::MAX)
            });
        }
        Some((
            u32::try_from(from).ok()?,
            u32::try_from(self.ids.len()).ok()?,
        ))
    }

    pub fn finish(self) -> Plans {
        Plans {
            ids: self.ids.into_boxed_slice(),
        }
    }
}

/// The bits in both.
pub(crate) fn and(a: &Mask, b: &Mask) -> Mask {
    std::array::from_fn(|k| a.get(k).zip(b.get(k)).map_or(0, |(x, y)| x & y))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Policy;

    /// A literal resource pattern knows where a matched resource's account field lies when it holds the ARN's
    /// fifth colon and the field is not empty.
    #[test]
    fn literal_knows_the_account_field() {
        for (text, want) in [
            (
                "arn:aws:sagemaker:eu-west-1:111122223333:user-profile/d-1/",
                Some("111122223333"),
            ),
            (
                "arn:aws:sagemaker:eu-west-1:111122223333:",
                Some("111122223333"),
            ),
            ("arn:aws:iam::1:role/R", Some("1")),
            ("arn:aws:s3:::bucket/", None),
            ("arn:aws:sagemaker:eu-west-1:111122223333", None),
            ("arn:aws", None),
        ] {
            let l = LLiteral::new(text, true);
            let got = (l.account.1 != 0)
                .then(|| text.get(usize::from(l.account.0)..usize::from(l.account.1)))
                .flatten();
            assert_eq!(got, want, "{text}");
            if want.is_some() {
                assert_eq!(crate::policy::arn::account_field(text), want, "{text}");
            }
        }
    }

    /// A plan lists the cheaper of the statements where any one decides first, and a statement its cheaper
    /// conditions first; the original place of each condition is kept.
    #[test]
    fn cheaper_statements_and_conditions_first() {
        let p = Policy::parse(
            r#"{"Version":"2012-10-17","Statement":[
            {"Effect":"Deny","Action":"s3:GetObject","Resource":"*","Condition":{
                "NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"},
                "StringLike":{"aws:userid":"A*"},
                "Null":{"aws:SourceVpce":"true"}}},
            {"Effect":"Deny","Action":"s3:GetObject","Resource":"*","Condition":{
                "Bool":{"aws:SecureTransport":"false"}}},
            {"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#,
        )
        .unwrap();
        let set = crate::PolicySet::builder().identity(p).build().unwrap();
        let index = set.inner.actions().unwrap();
        let (_, plan) = index.entry(index.find("s3:GetObject").unwrap()).unwrap();
        let denies = &index.plan_arena.ids[plan.deny.0 as usize..plan.deny.1 as usize];
        assert_eq!(denies, [1, 0]);
        let first = &index.lowered.statements[0];
        let kind = |t: &LTest| match t {
            LTest::Null(..) => "null",
            LTest::Ip(_) => "ip",
            LTest::General => "general",
            _ => "other",
        };
        let order: Vec<_> = first
            .conds
            .iter()
            .map(|c| (c.origin.1, kind(&c.test)))
            .collect();
        assert_eq!(order, [(2, "null"), (0, "ip"), (1, "general")]);
    }
}
