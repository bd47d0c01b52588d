//! The gates (docs/SEMANTICS.md §4.1-§4.2) and how a decision reaches the statements for them: [`evaluate`], the
//! one walk every decision takes, asks a [`StatementSource`] whether a Deny applies, whether each gate has an
//! applicable Allow and how the resource policy names the caller; [`Walk`] answers by every policy in order
//! (recording, for explain), [`Planned`] by the action's plan, [`Indexed`] by the action index's masks.
//! [`PolicySet::run`] picks the source. The last step of the pipeline before the public entry points (`super`):
//! it reads the request (`super::input`) and the statement tests (`super::statement`, `super::lowered`).

use super::input::Input;
use super::lowered::lowered_applies;
use super::statement::{Grant, applies, grant_of};
use super::{Decision, Gate, Reason, Tracer};
use crate::compile::{
    ActionIndex, CompiledPolicy, Inner, MASK_WORDS, Placed, PolicyRef, PolicySet, ResourceKind,
};
use crate::lower::{ALWAYS, Plan, and, gate_ordinal};
use crate::policy::Effect;
use crate::rules::rcp_governs;
use crate::span::Span;

impl PolicySet {
    /// The decision: the one walk, [`evaluate`], over the statements as the fastest source at hand reaches them.
    /// Without recording, on a set with an action index: by the action's plan when the set names the action, by
    /// the index's masks otherwise; else (or to record) over every policy.
    pub(super) fn run<T: Tracer>(&self, input: &Input<'_>, t: &mut T) -> Decision {
        let i = &*self.inner;
        if !T::FULL {
            if let Some(index) = i.actions() {
                if let Some((_, plan)) = input.entry.and_then(|e| index.entry(e)) {
                    let mut s = Planned {
                        set: self,
                        index,
                        plan,
                        inp: input,
                    };
                    return evaluate(i, input, &mut s);
                }
                if let Some(mask) = &input.mask {
                    let mut s = Indexed {
                        set: self,
                        index,
                        mask,
                        inp: input,
                    };
                    return evaluate(i, input, &mut s);
                }
            }
        }
        self.walk(input, t)
    }

    /// [`evaluate`] over every policy in order. Out of line, so that the fast path's dispatch in
    /// [`PolicySet::run`] stays small.
    #[inline(never)]
    fn walk<T: Tracer>(&self, input: &Input<'_>, t: &mut T) -> Decision {
        let i = &*self.inner;
        // The full walk matches each statement's action by the mask, which an action the set names has in its
        // entry (see `Input::mask`).
        let with_mask;
        let input = match (i.actions(), input.entry) {
            (Some(index), Some(e)) if input.mask.is_none() => {
                with_mask = input.with_mask(index.entry(e).map(|(m, _)| *m));
                &with_mask
            }
            _ => input,
        };
        evaluate(
            i,
            input,
            &mut Walk {
                set: i,
                inp: input,
                t,
            },
        )
    }
}

/// How a walk reaches the statements of a set (see [`evaluate`]): whether a Deny applies, whether a gate has an
/// applicable Allow, how the resource policy's Allows name the caller. A source decides what each statement it
/// visits says, by [`applies`] or, on the lowered form, [`lowered_applies`]; it never decides what the gates make
/// of the answers.
trait StatementSource {
    /// Whether every statement is evaluated (to record them all) instead of stopping at the first decisive one.
    const FULL: bool;
    /// Whether RCPs govern the request's action ([`rcp_governs`]).
    fn rcps_govern(&self) -> bool;
    /// Whether a Deny statement applies: every policy's, RCPs' only when `rcps` (docs/SEMANTICS.md §4.1).
    fn denied(&mut self, rcps: bool) -> bool;
    /// Whether an Allow statement of `gate` applies; `denied`, whether the request is denied already (a denied
    /// request's reasons are its Deny statements).
    fn allows(&mut self, gate: Gate, denied: bool) -> bool;
    /// The strongest way an applicable Allow of the resource policy names the caller.
    fn grant(&mut self, denied: bool) -> Grant;
    /// Record that `gate` has no applicable Allow.
    fn no_allow(&mut self, _gate: Gate) {}
    /// Whether each of the `levels` SCP levels is known, without evaluating anything, to have an Allow that
    /// applies to every request with the action (`false`: ask [`StatementSource::allows`] for each).
    fn scps_always(&self, _levels: usize) -> bool {
        false
    }
}

/// The decision of docs/SEMANTICS.md §4.1-§4.2, the one place the gates are applied: an applicable Deny decides;
/// otherwise every SCP level, the identity side (in one account, a resource policy's grant may stand for it),
/// across accounts the resource policy, the boundary and the session policies (unless a same-account resource
/// policy grants the caller itself) and the endpoint policy must each have an applicable Allow. Without
/// recording, it stops at the first gate that fails and asks only what the answer needs.
#[inline(always)]
fn evaluate<S: StatementSource>(set: &Inner, inp: &Input<'_>, s: &mut S) -> Decision {
    let rcps = !set.rcps.is_empty() && s.rcps_govern();
    let denied = s.denied(rcps);
    if denied && !S::FULL {
        return Decision::ExplicitDeny;
    }
    let mut failed = false;
    macro_rules! fail {
        ($gate:expr) => {{
            failed = true;
            if !denied {
                s.no_allow($gate);
            }
            if !S::FULL {
                return Decision::ImplicitDeny;
            }
        }};
    }
    let levels = set.scps.len();
    if !s.scps_always(levels) {
        for l in 0..levels {
            if !s.allows(Gate::Scp(l), denied) {
                fail!(Gate::Scp(l));
            }
        }
    }
    let identity = s.allows(Gate::Identity, denied);
    // §4.1: in one account, a resource policy's grant to the caller itself stands alone; a grant to the role is
    // limited by the boundary and the session policies; a key or trust policy must itself allow, and its Allow
    // for the account delegates to the identity policies.
    let has_resource = set.resource.is_some();
    let own_rules = has_resource && set.resource_kind != ResourceKind::Resource;
    // Whether principal and resource share an account. Without a resource policy nothing before the last gate
    // needs it: the fast path asks last (`None` until then), when an earlier gate may have failed or a literal
    // resource pattern located the resource's account. The fast path asks at most once (the cell is for the full
    // walk, whose principal tests may ask again).
    let same_account = match (S::FULL, has_resource) {
        (true, _) => Some(inp.same_account()),
        (false, true) => Some(inp.accounts_agree()),
        (false, false) => None,
    };
    let grant = if has_resource
        && (S::FULL
            || own_rules
            || set.boundary.is_some()
            || !set.session.is_empty()
            || !identity
            || same_account == Some(false))
    {
        s.grant(denied)
    } else {
        Grant::None
    };
    let direct = same_account == Some(true) && grant == Grant::Caller;
    match same_account {
        Some(true) => {
            if own_rules && grant == Grant::None {
                fail!(Gate::Resource);
            }
            if !direct && !identity && grant != Grant::Role {
                fail!(Gate::Identity);
            }
        }
        // Across accounts, or (`None`) without a resource policy, in either case: the identity gate must allow.
        _ => {
            if !identity {
                fail!(Gate::Identity);
            }
            if same_account == Some(false) && grant == Grant::None {
                fail!(Gate::Resource);
            }
        }
    }
    // In full mode evaluated even where a direct grant passes them, to record their statements.
    if set.boundary.is_some() && (S::FULL || !direct) {
        let allowed = s.allows(Gate::Boundary, denied);
        if !allowed && !direct {
            fail!(Gate::Boundary);
        }
    }
    if !set.session.is_empty() && (S::FULL || !direct) {
        let allowed = s.allows(Gate::Session, denied);
        if !allowed && !direct {
            fail!(Gate::Session);
        }
    }
    if set.endpoint.is_some() && !s.allows(Gate::Endpoint, denied) {
        fail!(Gate::Endpoint);
    }
    // Without a resource policy, a request across accounts has no resource policy to allow it.
    if same_account.is_none() && !inp.accounts_agree() {
        fail!(Gate::Resource);
    }
    if denied {
        Decision::ExplicitDeny
    } else if failed {
        Decision::ImplicitDeny
    } else {
        Decision::Allow
    }
}

/// Every policy in order, each statement by [`applies`], recorded by `t`.
struct Walk<'a, 'r, T> {
    set: &'a Inner,
    inp: &'a Input<'r>,
    t: &'a mut T,
}

impl<T: Tracer> StatementSource for Walk<'_, '_, T> {
    const FULL: bool = T::FULL;

    fn rcps_govern(&self) -> bool {
        rcp_governs(self.inp.action)
    }

    fn denied(&mut self, rcps: bool) -> bool {
        let (set, inp) = (self.set, self.inp);
        let t = &mut *self.t;
        let mut denied = false;
        each_policy(set, rcps, |at, p| {
            if deny_in(&set.placed(at), p, inp, t) {
                denied = true;
                return !T::FULL;
            }
            false
        });
        denied
    }

    fn allows(&mut self, gate: Gate, denied: bool) -> bool {
        let (set, inp) = (self.set, self.inp);
        let t = &mut *self.t;
        match gate {
            Gate::Scp(l) => {
                let level = set.scps.get(l).map(Vec::as_slice).unwrap_or_default();
                let ps = level.iter().enumerate();
                let ps = ps.map(|(j, p)| (PolicyRef::Scp(l, j), p));
                allow_in_any(set, ps, inp, t, denied)
            }
            Gate::Identity => {
                let ps = set.identity.iter().enumerate();
                let ps = ps.map(|(n, p)| (PolicyRef::Identity(n), p));
                allow_in_any(set, ps, inp, t, denied)
            }
            Gate::Session => {
                let ps = set.session.iter().enumerate();
                let ps = ps.map(|(n, p)| (PolicyRef::Session(n), p));
                allow_in_any(set, ps, inp, t, denied)
            }
            Gate::Boundary => {
                let ps = set.boundary.iter().map(|p| (PolicyRef::Boundary, p));
                allow_in_any(set, ps, inp, t, denied)
            }
            Gate::Endpoint => {
                let ps = set.endpoint.iter().map(|p| (PolicyRef::Endpoint, p));
                allow_in_any(set, ps, inp, t, denied)
            }
            Gate::Resource => self.grant(denied) != Grant::None,
        }
    }

    fn grant(&mut self, denied: bool) -> Grant {
        resource_grant(self.set, self.inp, self.t, denied)
    }

    fn no_allow(&mut self, gate: Gate) {
        self.t.reason(Reason::NoAllow(gate));
    }
}

/// An action the set's index does not name: the statements of each gate whose action matches (`mask`), by
/// [`lowered_applies`]; a gate with an unconditional Allow for the action passes without evaluating anything.
struct Indexed<'a, 'r> {
    set: &'a PolicySet,
    index: &'a ActionIndex,
    mask: &'a [u64; MASK_WORDS],
    inp: &'a Input<'r>,
}

impl StatementSource for Indexed<'_, '_> {
    const FULL: bool = false;

    fn rcps_govern(&self) -> bool {
        rcp_governs(self.inp.action)
    }

    fn denied(&mut self, rcps: bool) -> bool {
        let deny = and(self.mask, &self.index.gates.denies(rcps));
        any_applies(self.set, self.index, &deny, self.inp)
    }

    #[inline]
    fn allows(&mut self, gate: Gate, _denied: bool) -> bool {
        let g = &self.index.gates;
        let Some(m) = g.of(gate) else {
            return false;
        };
        let m = and(self.mask, m);
        and(&g.unconditional_allow, &m).iter().any(|&w| w != 0)
            || any_applies(self.set, self.index, &and(&g.allow, &m), self.inp)
    }

    fn grant(&mut self, denied: bool) -> Grant {
        // INVARIANT: a set with an action index has no resource policy whose grant depends on how it names the
        // caller (`Inner::needs_full_walk`: no boundary, no session policy, no key or trust policy), so any
        // applicable Allow decides as a grant to the role does.
        if self.allows(Gate::Resource, denied) {
            Grant::Role
        } else {
            Grant::None
        }
    }
}

/// An action the set's index names: the statements of its plan (see `crate::lower::Plan`), by
/// [`lowered_applies`].
struct Planned<'a, 'r> {
    set: &'a PolicySet,
    index: &'a ActionIndex,
    plan: &'a Plan,
    inp: &'a Input<'r>,
}

impl Planned<'_, '_> {
    /// Whether a statement of `ids[from..to]` applies.
    #[inline(always)]
    fn any(&self, (from, to): (u32, u32)) -> bool {
        self.index
            .plan_arena
            .ids
            .get(from as usize..to as usize)
            .unwrap_or_default()
            .iter()
            .any(|&id| lowered_applies(self.set, self.index, id as usize, self.inp))
    }
}

impl StatementSource for Planned<'_, '_> {
    const FULL: bool = false;

    #[inline(always)]
    fn scps_always(&self, levels: usize) -> bool {
        let all = 1u64.checked_shl(levels as u32).map_or(u64::MAX, |b| b - 1);
        levels < 64 && self.plan.always & all == all
    }

    #[inline]
    fn rcps_govern(&self) -> bool {
        self.plan.rcps_govern
    }

    #[inline]
    fn denied(&mut self, rcps: bool) -> bool {
        self.any(self.plan.deny) || (rcps && self.any(self.plan.rcp_deny))
    }

    #[inline(always)]
    fn allows(&mut self, gate: Gate, _denied: bool) -> bool {
        let k = gate_ordinal(gate, self.set.inner.scps.len());
        if k < 64 && (self.plan.always >> k) & 1 != 0 {
            return true;
        }
        let at = self.plan.gates as usize + 2 * k;
        match self.index.plan_arena.ids.get(at..at + 2) {
            Some(&[ALWAYS, _]) => true,
            Some(&[from, to]) => self.any((from, to)),
            _ => false,
        }
    }

    fn grant(&mut self, denied: bool) -> Grant {
        // INVARIANT: as for `Indexed::grant`.
        if self.allows(Gate::Resource, denied) {
            Grant::Role
        } else {
            Grant::None
        }
    }
}

/// Whether any statement of `ids` (by id) applies to `inp`.
#[inline]
fn any_applies(
    set: &PolicySet,
    index: &ActionIndex,
    ids: &[u64; MASK_WORDS],
    inp: &Input<'_>,
) -> bool {
    for (k, &word) in ids.iter().enumerate() {
        let mut w = word;
        while w != 0 {
            let id = k * 64 + w.trailing_zeros() as usize;
            w &= w - 1;
            if lowered_applies(set, index, id, inp) {
                return true;
            }
        }
    }
    false
}

/// Call `f` on every policy of `i` in the order of [`PolicySet::policies`] (RCPs only when `rcps`) until it
/// returns true; whether it did.
fn each_policy(
    i: &Inner,
    rcps: bool,
    mut f: impl FnMut(PolicyRef, &CompiledPolicy) -> bool,
) -> bool {
    for (l, level) in i.scps.iter().enumerate() {
        for (j, p) in level.iter().enumerate() {
            if f(PolicyRef::Scp(l, j), p) {
                return true;
            }
        }
    }
    if rcps {
        for (l, level) in i.rcps.iter().enumerate() {
            for (j, p) in level.iter().enumerate() {
                if f(PolicyRef::Rcp(l, j), p) {
                    return true;
                }
            }
        }
    }
    if let Some(p) = &i.resource {
        if f(PolicyRef::Resource, p) {
            return true;
        }
    }
    for (n, p) in i.identity.iter().enumerate() {
        if f(PolicyRef::Identity(n), p) {
            return true;
        }
    }
    if let Some(p) = &i.boundary {
        if f(PolicyRef::Boundary, p) {
            return true;
        }
    }
    for (n, p) in i.session.iter().enumerate() {
        if f(PolicyRef::Session(n), p) {
            return true;
        }
    }
    i.endpoint
        .as_ref()
        .is_some_and(|p| f(PolicyRef::Endpoint, p))
}

/// Whether any Deny statement of `p` applies; records each (in full mode, all of them).
fn deny_in<T: Tracer>(pl: &Placed<'_>, p: &CompiledPolicy, req: &Input<'_>, t: &mut T) -> bool {
    let mut any = false;
    let at = pl.at;
    for st in p.statements.iter().filter(|s| s.effect == Effect::Deny) {
        if applies(pl, st, req, t) {
            any = true;
            // INVARIANT: the fast path builds no reason (building one clones the Sid).
            if T::FULL {
                t.reason(Reason::Statement {
                    policy: at,
                    sid: st.sid.clone(),
                    statement: st.index,
                    effect: Effect::Deny,
                    span: Span::default(),
                });
            }
            if !T::FULL {
                return true;
            }
        }
    }
    any
}

/// Whether any Allow statement of the given policies applies. Reasons are recorded only when the request is not
/// already denied (a denied request's reasons are its Deny statements).
fn allow_in_any<'p, T: Tracer>(
    set: &Inner,
    policies: impl Iterator<Item = (PolicyRef, &'p CompiledPolicy)>,
    req: &Input<'_>,
    t: &mut T,
    denied: bool,
) -> bool {
    let mut any = false;
    for (at, p) in policies {
        let pl = set.placed(at);
        for st in p.statements.iter().filter(|s| s.effect == Effect::Allow) {
            if applies(&pl, st, req, t) {
                any = true;
                if T::FULL && !denied {
                    t.reason(Reason::Statement {
                        policy: at,
                        sid: st.sid.clone(),
                        statement: st.index,
                        effect: Effect::Allow,
                        span: Span::default(),
                    });
                }
                if !T::FULL {
                    return true;
                }
            }
        }
    }
    any
}

/// The strongest way an applicable Allow of the resource-based policy names the caller; records each applicable
/// Allow as [`allow_in_any`] does.
fn resource_grant<T: Tracer>(set: &Inner, req: &Input<'_>, t: &mut T, denied: bool) -> Grant {
    let p = set.resource.as_ref();
    let pl = set.placed(PolicyRef::Resource);
    let mut best = Grant::None;
    for st in p
        .iter()
        .flat_map(|p| p.statements.iter())
        .filter(|s| s.effect == Effect::Allow)
    {
        if applies(&pl, st, req, t) {
            if T::FULL && !denied {
                t.reason(Reason::Statement {
                    policy: PolicyRef::Resource,
                    sid: st.sid.clone(),
                    statement: st.index,
                    effect: Effect::Allow,
                    span: Span::default(),
                });
            }
            best = best.max(grant_of(st, req.principal));
            if !T::FULL && best == Grant::Caller {
                break;
            }
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Policy;
    use crate::context::{Request, RequestRef};

    /// A plan keeps the SCP levels that pass unconditionally for an action as bits, 64 of them: every level is
    /// still decided past the 64th, one level without an Allow denies wherever it is, and the plan, the index's
    /// masks (an action the set does not name) and the full walk agree.
    #[test]
    fn plans_decide_every_scp_level_past_the_always_bits() {
        let allow_all = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
        let allow_s3 = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#;
        let identity = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject",
            "sqs:SendMessage"],"Resource":"*"}]}"#;
        for levels in [1, 3, 63, 64, 65, 70] {
            for narrow in [None, Some(0), Some(levels / 2), Some(levels - 1)] {
                let mut b = PolicySet::builder().identity(Policy::parse(identity).unwrap());
                for l in 0..levels {
                    let text = if narrow == Some(l) {
                        allow_s3
                    } else {
                        allow_all
                    };
                    b = b.scp_level([Policy::parse(text).unwrap()]);
                }
                let set = b.build().unwrap();
                for (action, named) in [
                    ("s3:GetObject", true),
                    ("sqs:SendMessage", true),
                    ("sqs:ReceiveMessage", false),
                ] {
                    let req = Request::new(action, "arn:aws:s3:::b/k");
                    let want = if action.starts_with("s3:") || (narrow.is_none() && named) {
                        Decision::Allow
                    } else {
                        Decision::ImplicitDeny
                    };
                    let what = format!("{levels} levels, narrow {narrow:?}, {action}");
                    assert_eq!(set.decide(&req), want, "{what}");
                    assert_eq!(set.explain(&req).decision, want, "{what}: explain");
                    let r = RequestRef {
                        action,
                        resource: "arn:aws:s3:::b/k",
                        ..RequestRef::default()
                    };
                    assert_eq!(set.decide_ref(&r), Ok(want), "{what}: decide_ref");
                }
            }
        }
    }
}
