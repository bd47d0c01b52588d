//! The condition kernel of docs/SEMANTICS.md §3.3-§3.6, written once for every walk: an operator on the request's
//! values of its key (`kernel`), with its rules for `Null` (`null`), an absent key (`on_absent`) and a key without
//! a qualifier (`unqualified`), and whether one value matches a policy value (`matches_any`). It reads a key's
//! values, never the request as a whole: the statement tests (`super::statement`, `super::lowered`) call it, and
//! the analyses call [`condition`] on a request of their own.

use super::{AbsentRule, Outcome};
use crate::compile::{CCondition, CValues};
use crate::context::{Found, Request, ScalarRef, Values};
use crate::policy::operator::{Family, Qualifier};
use crate::policy::pattern::Vars;
use std::net::IpAddr;

/// The kernel of docs/SEMANTICS.md §3.6, looking the key up in `req`.
pub(crate) fn condition(c: &CCondition, req: &Request) -> (bool, Outcome) {
    condition_on(c, req.context.entry(&c.key).map(Found::entry), &req.context)
}

/// The kernel of docs/SEMANTICS.md §3.6 on the value of `c`'s key (`None`: absent).
// Inlined so that the fast path, which drops the `Outcome`, does not build it.
#[inline(always)]
pub(super) fn condition_on(
    c: &CCondition,
    entry: Option<Found<'_>>,
    vars: &dyn Vars,
) -> (bool, Outcome) {
    if let CValues::Null {
        when_absent,
        when_present,
    } = c.values
    {
        return null(
            when_absent,
            when_present,
            entry.is_some_and(|e| e.values.len() > 0),
        );
    }
    let (values, ip) = match entry {
        Some(e) => (e.values, e.ip),
        None => (Values::Text(&[]), None),
    };
    let op = c.op;
    kernel(
        op.qualifier,
        op.if_exists,
        op.base.is_negated(),
        values,
        |r| matches_any(c, r, ip, vars),
    )
}

/// `Null`: what it gives for an absent key, for a present one, on a key that is `present` (a list of no value is
/// absent). The one place of the rule, for every walk.
#[inline(always)]
pub(super) fn null(when_absent: bool, when_present: bool, present: bool) -> (bool, Outcome) {
    let held = if present { when_present } else { when_absent };
    (held, Outcome::Null { present })
}

/// The condition kernel of docs/SEMANTICS.md §3.3-§3.6, written once for every walk: an operator with
/// `qualifier`, `if_exists` and `negated` on the request's `values` of its key (none: absent), `m` telling whether
/// one value matches a policy value under the operator's positive form. Its rules for an absent key
/// ([`on_absent`]) and for one compared without a qualifier ([`unqualified`]) are functions of their own, which
/// the fast path's lowered tests call on one value or none.
#[inline(always)]
fn kernel(
    qualifier: Option<Qualifier>,
    if_exists: bool,
    negated: bool,
    values: Values<'_>,
    m: impl Fn(ScalarRef<'_>) -> bool,
) -> (bool, Outcome) {
    // §3.6: for the set qualifiers a present-but-empty string counts as absent.
    if values.len() == 0
        || (qualifier.is_some() && matches!(values.one(), Some(ScalarRef::String(""))))
    {
        return on_absent(qualifier, if_exists, negated);
    }
    match qualifier {
        None => {
            // A single-valued key; a list given without a qualifier matches when any of its values matches
            // (docs/SEMANTICS.md §3.4, UNCERTAIN).
            let matched = values.iter().any(&m);
            (unqualified(matched, negated), compared(matched))
        }
        Some(Qualifier::ForAnyValue) => {
            let held = values.iter().any(|r| m(r) != negated);
            (held, compared(held != negated))
        }
        Some(Qualifier::ForAllValues) => {
            let held = values.iter().all(|r| m(r) != negated);
            (held, compared(held != negated))
        }
    }
}

/// The kernel's rule for a key that is absent (docs/SEMANTICS.md §3.6): the set qualifier decides before
/// `IfExists` (§3.3: `ForAnyValue:…IfExists` on an absent or empty key is false, `ForAllValues:…IfExists` true);
/// without one, `IfExists` or a negated operator makes the condition true.
#[inline(always)]
pub(super) fn on_absent(
    qualifier: Option<Qualifier>,
    if_exists: bool,
    negated: bool,
) -> (bool, Outcome) {
    let (held, rule) = match qualifier {
        Some(Qualifier::ForAllValues) => (true, AbsentRule::ForAllValues),
        Some(Qualifier::ForAnyValue) => (false, AbsentRule::ForAnyValue),
        None if if_exists => (true, AbsentRule::IfExists),
        None if negated => (true, AbsentRule::Negated),
        None => (false, AbsentRule::Positive),
    };
    (held, Outcome::Absent(rule))
}

/// The outcome of a comparison whose values `matched` under the operator's positive form.
#[inline(always)]
fn compared(matched: bool) -> Outcome {
    if matched {
        Outcome::Matched
    } else {
        Outcome::NoMatch
    }
}

/// The kernel's rule for a present key without a qualifier: whether the condition holds, given whether a value
/// `matched` under the operator's positive form.
#[inline(always)]
pub(super) fn unqualified(matched: bool, negated: bool) -> bool {
    matched != negated
}

/// The request's values of `c`'s key that match a policy value under the operator's positive form, as the kernel
/// compares them (none for `Null`, which compares no value). Explaining only.
pub(super) fn matched_values(
    c: &CCondition,
    entry: Option<Found<'_>>,
    vars: &dyn Vars,
) -> Vec<String> {
    match (entry, &c.values) {
        (None, _) | (_, CValues::Null { .. }) => Vec::new(),
        (Some(e), _) => e
            .values
            .iter()
            .filter(|&r| matches_any(c, r, e.ip, vars))
            .map(|r| r.text().to_string())
            .collect(),
    }
}

/// The unsettled rule of docs/SEMANTICS.md §9 that evaluating `c` on the value of its key relies on, if any.
pub(super) fn uncertainty(c: &CCondition, entry: Option<Found<'_>>) -> Option<&'static str> {
    let values = entry.map_or(Values::Text(&[]), |e| e.values);
    let negated = c.op.base.is_negated();
    if values.len() == 0 {
        return (c.op.qualifier == Some(Qualifier::ForAllValues) && negated && !c.op.if_exists).then_some(
            "`ForAllValues:` with a negated operator on an absent key is taken as true (docs/SEMANTICS.md §9 row 19)",
        );
    }
    if c.op.qualifier.is_none() && values.len() > 1 {
        return Some(
            "a list of values for a key used without `ForAnyValue:`/`ForAllValues:` matches when any value matches (docs/SEMANTICS.md §9 row 17)",
        );
    }
    if c.op.qualifier.is_none() && matches!(values.one(), Some(ScalarRef::String(""))) {
        return Some("an empty string is taken as a present value (docs/SEMANTICS.md §9 row 18)");
    }
    let malformed = match &c.values {
        CValues::Numeric(v) => v.iter().any(Option::is_none),
        CValues::Date(v) => v.iter().any(Option::is_none),
        CValues::Binary(v) => v.iter().any(Option::is_none),
        _ => false,
    };
    if malformed {
        return Some(
            "a policy value that does not parse for its operator never matches (docs/SEMANTICS.md §9 row 13)",
        );
    }
    None
}

/// Whether request value `r` matches any policy value under the positive counterpart of the operator. `ip` is
/// the entry's parsed address, when it has one (then `r` is its only value).
#[inline]
pub(crate) fn matches_any(
    c: &CCondition,
    r: ScalarRef<'_>,
    ip: Option<IpAddr>,
    vars: &dyn Vars,
) -> bool {
    match (&c.values, c.op.base.family()) {
        (CValues::Exact(_, Some(set)), _) => set.contains(r.text()),
        (CValues::Exact(ps, None), _) => ps
            .iter()
            .any(|p| p.matches(r.text(), vars, false) == Some(true)),
        (CValues::IgnoreCase(ps), _) => ps
            .iter()
            .any(|p| p.equals_ignore_case(r.text(), vars) == Some(true)),
        (CValues::Like(ps), _) => ps
            .iter()
            .any(|p| p.matches(r.text(), vars, false) == Some(true)),
        (CValues::Numeric(ns), Family::Numeric(cmp)) => r.number().is_some_and(|x| {
            ns.iter()
                .flatten()
                .any(|n| x.partial_cmp(n).is_some_and(|o| cmp.holds(o)))
        }),
        (CValues::Date(ds), Family::Date(cmp)) => r
            .timestamp()
            .is_some_and(|x| ds.iter().flatten().any(|d| cmp.holds(x.cmp(d)))),
        (CValues::Bool(ps), _) => match r.boolean() {
            Some(b) => {
                let text = if b { "true" } else { "false" };
                ps.iter().any(|p| match p.as_literal() {
                    // The usual case, a literal `"true"`/`"false"`: no Unicode case folding.
                    Some(l) => l.eq_ignore_ascii_case(text),
                    None => p.equals_ignore_case(text, vars) == Some(true),
                })
            }
            None => false,
        },
        (CValues::Binary(bs), _) => bs
            .iter()
            .flatten()
            .any(|b| crate::policy::value::base64_equals(r.text(), b)),
        (CValues::Ip(set), _) => match ip {
            Some(a) => set.contains(a),
            None => r.ip().is_some_and(|a| set.contains(a)),
        },
        (CValues::Arn(ps), _) => ps.iter().any(|p| p.matches(r.text(), vars) == Some(true)),
        _ => false,
    }
}
