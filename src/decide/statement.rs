//! Whether a statement applies to a request ([`applies`]: its action, resource, principal and every condition,
//! recording each for explain), principal matching ([`principal_applies`]) and how an applicable Allow of a
//! resource policy names the caller ([`grant_of`]). Between the request ([`Input`]) and the conditions
//! (`super::condition`) below it, and the walk (`super::walk`) above, which applies the gates to the answers.

use super::condition::{condition_on, matched_values, uncertainty};
use super::input::Input;
use super::{ConditionTrace, StatementTrace, Tracer};
use crate::compile::{AccountMatch, CCondition, CPrincipal, CStatement, Placed};
use crate::context::is_account_id;
use crate::policy::PrincipalKind;
use crate::span::Span;

/// Whether statement `st` applies to `req`: action, resource, principal and every condition.
pub(super) fn applies<T: Tracer>(
    pl: &Placed<'_>,
    st: &CStatement,
    inp: &Input<'_>,
    t: &mut T,
) -> bool {
    #[cfg(not(target_arch = "wasm32"))]
    let statements = T::STATEMENTS;
    #[cfg(target_arch = "wasm32")]
    let statements = t.wants_statements();
    let action_matched = inp.action_matches(pl.id(st), st);
    if !statements && (!action_matched || st.unconditional) {
        return action_matched;
    }
    let vars = inp.vars();
    let resource_matched = resource_matches(st, inp);
    if !statements && !resource_matched {
        return false;
    }
    let principal_matched = principal_applies(pl, st, inp);
    let mut applies = action_matched && resource_matched && principal_matched;
    let entry = |k: usize, c: &CCondition| inp.value(pl.slot(st, k), &c.key, c.hash);
    if !statements {
        return applies
            && st
                .conditions
                .iter()
                .enumerate()
                .all(|(k, c)| condition_on(c, entry(k, c), vars).0);
    }
    let mut conditions = Vec::with_capacity(st.conditions.len());
    for (index, c) in st.conditions.iter().enumerate() {
        let entry = entry(index, c);
        let (held, outcome) = condition_on(c, entry, vars);
        applies &= held;
        conditions.push(ConditionTrace {
            index,
            operator: c.op,
            key: c.key.to_string(),
            // The values as written, and the span, come from the parsed policy (`PolicySet::locate`).
            values: Vec::new(),
            request_values: entry.map(|e| e.values.iter().map(|v| v.text().to_string()).collect()),
            matched_values: matched_values(c, entry, vars),
            held,
            outcome,
            uncertain: uncertainty(c, entry),
            span: Span::default(),
        });
    }
    t.statement(StatementTrace {
        policy: pl.at,
        statement: st.index,
        sid: st.sid.clone(),
        effect: st.effect,
        action_matched,
        resource_matched,
        principal_matched,
        conditions,
        applies,
        span: Span::default(),
    });
    applies
}

/// Whether `st`'s `Resource`/`NotResource` matches the request's resource.
#[inline]
pub(super) fn resource_matches(st: &CStatement, inp: &Input<'_>) -> bool {
    (st.any_resource
        || st.resources.iter().any(|r| {
            // Only a per-field pattern asks for the colons (rare); each asks afresh.
            let cuts = || crate::policy::arn::first_colons(inp.resource.as_bytes());
            r.matches_cut(cuts, inp.resource, inp.vars()) == Some(true)
        }))
        != st.not_resource
}

/// Whether `st`'s `Principal`/`NotPrincipal` (if any) matches the request's principal (the rules of its place are
/// the set's: `Placed::account_match`, `Placed::deny_any_principal`).
#[inline]
pub(super) fn principal_applies(pl: &Placed<'_>, st: &CStatement, inp: &Input<'_>) -> bool {
    match &st.principal {
        None | Some((false, CPrincipal::Any)) => true,
        // A resource-policy Deny with NotPrincipal denies a principal with a boundary whatever it lists (§4.1).
        Some((true, _)) if pl.deny_any_principal(st) => true,
        Some((negated, p)) => {
            // An account in a Principal grants only that account's root user in a gateway endpoint's policy
            // (§1.6), and in a same-account resource policy an Allow for the account delegates to identity
            // policies rather than granting by itself (docs/SEMANTICS.md §9 row 24).
            let root_only = match pl.account_match(st) {
                AccountMatch::Any => false,
                AccountMatch::RootOnly => true,
                AccountMatch::RootOnlySameAccount => inp.same_account(),
            };
            principal_matches(p, inp.principal, root_only) != *negated
        }
    }
}

/// How an applicable Allow of a resource-based policy names the caller, weakest first (docs/SEMANTICS.md §4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Grant {
    /// No applicable Allow.
    None,
    /// The caller's account: it delegates to the identity policies (a key or trust policy's Allow).
    Account,
    /// The role whose session calls: limited by the boundary and the session policies.
    Role,
    /// The caller itself: its IAM user or role session ARN, `*` (docs/SEMANTICS.md §9 row 22), or everyone but those
    /// a `NotPrincipal` lists; not limited by an implicit deny in the identity policies, the boundary or the
    /// session policies.
    Caller,
}

/// How statement `st`, which applies, names `who` (the caller; `None`: anonymous).
pub(super) fn grant_of(st: &CStatement, who: Option<&str>) -> Grant {
    let Some((false, CPrincipal::Map(map))) = &st.principal else {
        return Grant::Caller;
    };
    let Some(who) = who else {
        return Grant::Caller;
    };
    let mut best = Grant::None;
    for (kind, values) in map {
        for v in values {
            let g = match kind {
                PrincipalKind::Aws if v == "*" || v == who => Grant::Caller,
                PrincipalKind::Aws if !aws_principal_matches(v, who, false) => Grant::None,
                PrincipalKind::Aws
                    if is_account_id(v)
                        || crate::policy::arn::split(v).is_some_and(|f| f[5] == "root") =>
                {
                    // The account's root user is the account itself.
                    if aws_principal_matches(v, who, true) {
                        Grant::Caller
                    } else {
                        Grant::Account
                    }
                }
                PrincipalKind::Aws => Grant::Role,
                _ if v == who => Grant::Caller,
                _ => Grant::None,
            };
            best = best.max(g);
        }
    }
    best
}

fn principal_matches(p: &CPrincipal, principal: Option<&str>, root_only: bool) -> bool {
    let map = match p {
        CPrincipal::Any => return true,
        CPrincipal::Map(m) => m,
    };
    let Some(who) = principal else {
        // An anonymous request matches only `*`.
        return map
            .iter()
            .any(|(k, vs)| *k == PrincipalKind::Aws && vs.iter().any(|v| v == "*"));
    };
    map.iter().any(|(kind, values)| {
        values.iter().any(|v| match kind {
            PrincipalKind::Aws => aws_principal_matches(v, who, root_only),
            PrincipalKind::Service | PrincipalKind::Federated | PrincipalKind::CanonicalUser => {
                v == who
            }
        })
    })
}

/// `"*"`, an account (id or root ARN: any principal of that account, or only its root user when `root_only`), the exact ARN, or a role ARN that the
/// caller's assumed-role session belongs to (docs/SEMANTICS.md §1.6).
fn aws_principal_matches(v: &str, who: &str, root_only: bool) -> bool {
    if v == "*" || v == who {
        return true;
    }
    let who_account = crate::policy::arn::account(who);
    let who_is_root =
        crate::policy::arn::split(who).is_some_and(|f| f[2] == "iam" && f[5] == "root");
    let account_matches =
        |account: &str| who_account == Some(account) && (!root_only || who_is_root);
    if is_account_id(v) {
        return account_matches(v);
    }
    let (Some(vf), Some(wf)) = (crate::policy::arn::split(v), crate::policy::arn::split(who))
    else {
        return false;
    };
    if vf[5] == "root" && vf[2] == "iam" {
        return account_matches(vf[4]);
    }
    // arn:aws:iam::A:role/path/Name matches arn:aws:sts::A:assumed-role/Name/session.
    if vf[2] == "iam" && wf[2] == "sts" && vf[4] == wf[4] && vf[1] == wf[1] {
        if let (Some(role), Some(session_role)) = (
            vf[5]
                .strip_prefix("role/")
                .map(|r| r.rsplit('/').next().unwrap_or(r)),
            wf[5]
                .strip_prefix("assumed-role/")
                .and_then(|r| r.split('/').next()),
        ) {
            return role == session_role;
        }
    }
    false
}
