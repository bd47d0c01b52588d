//! The fast path's statement test: [`lowered_applies`], [`super::statement::applies`] without recording, on the
//! lowered form of an indexed set's statements (`crate::lower`), for a statement whose action is known to match.
//! Its leaf tests compare one value as `matches_any` does; what the lowering left out (a principal, a resource
//! pattern with wildcards, a condition on a list or a typed value) goes to the same tests as `applies`, out of line.
//! Called by the walk's `Planned` and `Indexed` sources (`super::walk`).

use super::condition::{condition_on, null, on_absent, unqualified};
use super::input::{Input, Quick};
use super::statement::{principal_applies, resource_matches};
use crate::compile::{ActionIndex, CStatement, PolicyRef, PolicySet};
use crate::context::Found;
use crate::lower::{LCondition, LResource, LTest};
use std::net::IpAddr;

/// [`applies`](super::statement::applies) without recording, for statement `id` of an indexed set whose action is
/// known to match (the fast path), on its lowered form (`crate::lower`): what the lowering left out goes to the
/// same tests as `applies`.
#[inline]
pub(super) fn lowered_applies(
    set: &PolicySet,
    index: &ActionIndex,
    id: usize,
    inp: &Input<'_>,
) -> bool {
    let Some(st) = index.lowered.statements.get(id) else {
        return false;
    };
    if st.always {
        return true;
    }
    let resource = match &st.resource {
        LResource::Any => true,
        LResource::Literals(ts) => ts.iter().any(|t| {
            let r = inp.resource.as_bytes();
            let hit = if t.prefix {
                r.get(..t.text.len())
                    .is_some_and(|h| same_bytes(h, &t.text))
            } else {
                same_bytes(r, &t.text)
            };
            if hit && t.account.1 != 0 {
                inp.resource_account_at.set(t.account);
            }
            hit
        }),
        LResource::General => general_resource(set, index, id, inp),
    };
    if !resource || (st.principal && !general_principal(set, index, id, inp)) {
        return false;
    }
    st.conds
        .iter()
        .all(|c| lowered_condition(set, index, c, inp))
}

/// [`resource_matches`] for statement `id` of an indexed set. Out of line, as [`general_condition`].
#[inline(never)]
fn general_resource(set: &PolicySet, index: &ActionIndex, id: usize, inp: &Input<'_>) -> bool {
    statement(set, index, id).is_some_and(|(_, s)| resource_matches(s, inp))
}

/// [`principal_applies`] for statement `id` of an indexed set. Out of line, as [`general_condition`].
#[inline(never)]
fn general_principal(set: &PolicySet, index: &ActionIndex, id: usize, inp: &Input<'_>) -> bool {
    statement(set, index, id)
        .is_some_and(|(at, s)| principal_applies(&set.inner.placed(at), s, inp))
}

/// Statement `id` of an indexed set, with its policy's place.
fn statement<'s>(
    set: &'s PolicySet,
    index: &ActionIndex,
    id: usize,
) -> Option<(PolicyRef, &'s CStatement)> {
    let &(at, n) = index.by_id.get(id)?;
    Some((at, set.get(at)?.statements.get(n)?))
}

/// `a == b`: natively the slices' own comparison (the platform's `memcmp`); in WebAssembly, whose `memcmp` goes
/// one byte at a time (a tenth of a decision from JavaScript compared the resource's ARN that way), eight bytes
/// at a time.
#[inline(always)]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    #[cfg(target_arch = "wasm32")]
    return crate::context::eq_bytes(a, b);
    #[cfg(not(target_arch = "wasm32"))]
    return a == b;
}

/// [`condition_on`] on a lowered condition: the same kernel; when the request gives its key one string value (or
/// none), with the lowered leaf test, which compares the value the way
/// [`matches_any`](super::condition::matches_any) does; every other case on the original condition.
#[inline]
fn lowered_condition(
    set: &PolicySet,
    index: &ActionIndex,
    c: &LCondition,
    inp: &Input<'_>,
) -> bool {
    let general = |found| general_condition(set, index, c, found, inp);
    if let LTest::General = c.test {
        return general(inp.value(c.slot as usize, &c.key, c.hash));
    }
    let (s, ip) = match (inp.quick(c), &c.test) {
        (Quick::One(s, ip), _) => (s, ip),
        // `Null` on a list: present unless it has no value.
        (Quick::Absent, &LTest::Null(absent, present)) => return null(absent, present, false).0,
        (Quick::Other(f), &LTest::Null(absent, present)) => {
            return null(absent, present, f.values.len() > 0).0;
        }
        (Quick::Absent, _) => return on_absent(None, c.if_exists, c.negated).0,
        (Quick::Other(f), _) => return general(Some(f)),
    };
    let matched = match &c.test {
        &LTest::Null(absent, present) => return null(absent, present, true).0,
        test => lowered_leaf(test, s, ip, c.slot, inp),
    };
    unqualified(matched, c.negated)
}

/// The original of lowered condition `c`, by the kernel, on the value of its key (`entry`). Out of line, so that the fast path that calls it stays
/// small.
#[inline(never)]
fn general_condition(
    set: &PolicySet,
    index: &ActionIndex,
    c: &LCondition,
    entry: Option<Found<'_>>,
    inp: &Input<'_>,
) -> bool {
    statement(set, index, c.origin.0 as usize)
        .and_then(|(_, s)| s.conditions.get(c.origin.1 as usize))
        .is_some_and(|cc| condition_on(cc, entry, inp.vars()).0)
}

/// The lowered leaf test `test` on one string value `s` (`ip`: its address, when parsed already; `slot`: its
/// key's), as [`matches_any`](super::condition::matches_any) compares it on the original condition.
#[inline(always)]
fn lowered_leaf(test: &LTest, s: &str, ip: Option<IpAddr>, slot: u32, inp: &Input<'_>) -> bool {
    match test {
        LTest::Literals(ts) => ts.iter().any(|t| crate::context::eq_bytes(t, s.as_bytes())),
        LTest::Set(set) => in_set(set, s),
        &LTest::Bool(t, f) => match crate::policy::value::parse_bool(s) {
            Some(true) => t,
            Some(false) => f,
            None => false,
        },
        LTest::Ip(set) => in_cidrs(set, ip.or_else(|| inp.noted_ip(slot as usize)), s),
        LTest::Null(..) | LTest::General => false,
    }
}

/// Whether `s` is in `set`. Out of line, as [`in_cidrs`]: the statement loop that calls them stays small.
#[inline(never)]
fn in_set(set: &crate::compile::LiteralSet, s: &str) -> bool {
    set.contains(s)
}

/// Whether the address `ip` (or, when none was parsed, that of `s`) is in `set`.
#[inline(never)]
fn in_cidrs(set: &crate::policy::value::CidrSet, ip: Option<IpAddr>, s: &str) -> bool {
    ip.or_else(|| crate::policy::value::parse_request_ip(s))
        .is_some_and(|a| set.contains(a))
}
