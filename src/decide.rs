//! Decide one request against a [`PolicySet`] (docs/SEMANTICS.md §3, §4).
//!
//! Each AWS rule is written once. The gates (SCP levels, RCPs, the resource policy in one account and across
//! accounts, identity, boundary, session, endpoint) are `evaluate`, the one walk every decision takes; principal
//! matching is `principal_applies`; the condition kernel is `kernel`, with its rules for `Null`
//! (`null`), an absent key (`on_absent`) and a key without a qualifier (`unqualified`). What differs between
//! the paths is only how `evaluate` reaches statements, a `StatementSource`, monomorphised so that the fast path
//! pays nothing for the tracer: `Walk` visits every policy in order and tests each statement with `applies`,
//! recording what [`PolicySet::explain`] shows; `Planned` (an action the set's index names) visits the statements
//! of the action's plan, `Indexed` (another action) those the index's masks say match, both by the lowered form
//! (`lowered_applies`, whose leaf tests compare one value as `matches_any` does). Property tests and the
//! `decide_differential` fuzz target check that the sources, and [`PolicySet::decide_ref`] on a borrowed request,
//! decide alike.

use crate::compile::{AccountMatch, ResourceKind};
use crate::compile::{
    ActionIndex, CCondition, CPrincipal, CStatement, CValues, CompiledPolicy, Inner, KeyEntry,
    KeyInfo, MASK_WORDS, Placed, PolicyRef, PolicySet,
};
use crate::context::{
    Context, ContextError, ContextValue, Entry, Found, KeyType, Request, RequestRef, Scalar,
    ScalarRef, ValueRef, Values, check_type, is_account_id,
};
use crate::lower::{ALWAYS, LCondition, LResource, LTest, Plan, and, gate_ordinal};
use crate::policy::operator::{Family, Qualifier};
use crate::policy::pattern::Vars;
use crate::policy::{Effect, PrincipalKind};
use crate::rules::rcp_governs;
use crate::span::Span;
use serde::Serialize;
use std::cell::{Cell, OnceCell};
use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

/// The outcome of a request (docs/SEMANTICS.md §4.1). It serialises, and displays, as the variant's name: the
/// `decision` field of a decision record (docs/FORMATS.md §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Decision {
    /// No Deny applied, and every gate that had to allow (SCP levels, identity or resource policy, boundary,
    /// session policies, endpoint policy) had an Allow that applied.
    Allow,
    /// A Deny statement applied to the request in some policy. Final: no Allow anywhere overrides it.
    ExplicitDeny,
    /// No Deny applied, but some gate had no applicable Allow (the default: every request starts denied). Also the
    /// answer of [`PolicySet::decide`] to a malformed request ([`Request::check`]).
    ImplicitDeny,
}

impl Decision {
    /// Whether the request is allowed: true for [`Decision::Allow`] only; both kinds of deny refuse it.
    ///
    /// ```
    /// use iamgate::Decision;
    /// assert!(Decision::Allow.is_allowed());
    /// assert!(!Decision::ImplicitDeny.is_allowed());
    /// ```
    pub fn is_allowed(self) -> bool {
        self == Decision::Allow
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Decision::Allow => "Allow",
            Decision::ExplicitDeny => "ExplicitDeny",
            Decision::ImplicitDeny => "ImplicitDeny",
        })
    }
}

mod explain;
pub use explain::{AbsentRule, ConditionTrace, Explanation, Outcome, Reason, StatementTrace};

/// What the evaluator reports as it goes. The fast path uses `()`, which records nothing.
pub(crate) trait Tracer {
    /// Whether to evaluate everything (to explain) instead of stopping at the first decisive statement.
    const FULL: bool;
    /// Whether to record each statement with its conditions (explain), or only the reasons.
    const STATEMENTS: bool = Self::FULL;
    fn statement(&mut self, _t: StatementTrace) {}
    fn reason(&mut self, _r: Reason) {}
}

impl Tracer for () {
    const FULL: bool = false;
}

#[derive(Default)]
struct Recorder {
    statements: Vec<StatementTrace>,
    reasons: Vec<Reason>,
}

impl Tracer for Recorder {
    const FULL: bool = true;
    fn statement(&mut self, t: StatementTrace) {
        self.statements.push(t);
    }
    fn reason(&mut self, r: Reason) {
        self.reasons.push(r);
    }
}

pub use crate::rules::Gate;

/// Records only the reasons: every deciding statement, without the per-condition trace.
#[derive(Default)]
pub(crate) struct Reasons(pub Vec<Reason>);

impl Tracer for Reasons {
    const FULL: bool = true;
    const STATEMENTS: bool = false;
    fn reason(&mut self, r: Reason) {
        self.0.push(r);
    }
}

impl PolicySet {
    /// Decide `req` and return the reasons only (cheaper than [`PolicySet::explain`]).
    pub fn decide_with_reasons(&self, req: &Request) -> (Decision, Vec<Reason>) {
        let mut r = Reasons::default();
        let input = Input::owned(&self.inner, req);
        let decision = self.run(&input, &mut r);
        if !input.well_formed() {
            return (Decision::ImplicitDeny, Vec::new());
        }
        if decision == Decision::ImplicitDeny {
            r.0.retain(|x| matches!(x, Reason::NoAllow(_)));
        }
        self.locate(&mut r.0, &mut []);
        (decision, r.0)
    }

    /// Decide `req`. Allocates nothing and records nothing (but once: the second decision of a set built by
    /// [`crate::PolicySetBuilder::build_lazy`] or [`PolicySet::with_endpoint`] builds its action index).
    ///
    /// A request whose action is not `service:ActionName` or whose resource is neither `*` nor an ARN
    /// ([`Request::check`]) is never allowed: it gets `ImplicitDeny`, whatever the policies say. Use
    /// [`PolicySet::try_decide`] to tell it from a decision.
    ///
    /// ```
    /// use iamgate::{Decision, Policy, PolicySet, Request};
    /// let p = Policy::parse(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#).unwrap();
    /// let set = PolicySet::builder().identity(p).build().unwrap();
    /// assert_eq!(set.decide(&Request::new("s3:GetObject", "arn:aws:s3:::b/k")), Decision::Allow);
    /// assert_eq!(set.decide(&Request::new(" s3:GetObject", "arn:aws:s3:::b/k")), Decision::ImplicitDeny);
    /// assert!(set.try_decide(&Request::new("s3:GetObject", "ARN:aws:s3:::b/k")).is_err());
    /// ```
    pub fn decide(&self, req: &Request) -> Decision {
        let input = Input::owned(&self.inner, req);
        let decision = self.run(&input, &mut ());
        // Checked after the decision, and only when it allows: a deny of a malformed request is a deny anyway,
        // and the walk has often found the resource's colons by then (see `Input::well_formed`).
        if decision == Decision::Allow && !input.well_formed() {
            return Decision::ImplicitDeny;
        }
        decision
    }

    /// [`PolicySet::decide`], with a malformed action or resource ([`Request::check`]) an error rather than
    /// `ImplicitDeny` (with the exception [`PolicySet::decide_ref`] states for a short ARN).
    pub fn try_decide(&self, req: &Request) -> Result<Decision, ContextError> {
        let input = Input::owned(&self.inner, req);
        let decision = self.run(&input, &mut ());
        if input.suspect(decision) {
            req.check()?;
        }
        Ok(decision)
    }

    /// Decide a borrowed request: the same decision as [`PolicySet::decide`] on [`RequestRef::to_request`],
    /// without building it. Allocates nothing unless a value is refused (or, once, as [`PolicySet::decide`] says). A value that its key's documented
    /// type refuses (an `aws:SourceIp` that is not an address) is an error, as [`Context::insert`] makes it, and
    /// so are a malformed action or resource ([`Request::check`]); an embedding that must fail closed treats the
    /// error as a deny. One exception keeps denied requests from paying for a scan of their resource: a resource
    /// that starts with `arn:` but lacks an ARN's six fields is an error only where the policies would allow the
    /// request; where they deny it, that deny is returned.
    ///
    /// [`Context::insert`]: crate::Context::insert
    pub fn decide_ref(&self, req: &RequestRef<'_>) -> Result<Decision, ContextError> {
        self.decide_borrowed(req, None)
    }

    /// [`PolicySet::decide_ref`] with the context keys resolved beforehand. A request's keys are expected in
    /// the layout's order, any of them left out: each is compared (same bytes) with the layout's next few keys
    /// from where the last one was found, instead of looked up in the set's keys; a key not found so is looked
    /// up as usual. The decision is always that of [`PolicySet::decide_ref`], whatever the layout (one resolved
    /// for another set is ignored).
    ///
    /// ```
    /// use iamgate::{Decision, Policy, PolicySet, RequestRef};
    /// let p = Policy::parse(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject",
    ///     "Resource":"*","Condition":{"StringEquals":{"aws:SourceVpce":"vpce-1a2b3c4d"}}}]}"#).unwrap();
    /// let set = PolicySet::builder().identity(p).build().unwrap();
    /// // Once, when the proxy starts: the keys it sends, in its order.
    /// let layout = set.key_layout(["aws:SourceVpce", "aws:SourceIp"]);
    /// // Per request.
    /// let req = RequestRef {
    ///     principal: Some("arn:aws:iam::111122223333:role/R"),
    ///     action: "s3:GetObject",
    ///     resource: "arn:aws:s3:::bucket/key",
    ///     context: &[("aws:SourceVpce", "vpce-1a2b3c4d".into())],
    ///     ..RequestRef::default()
    /// };
    /// assert_eq!(set.decide_ref_with(&layout, &req), Ok(Decision::Allow));
    /// assert_eq!(set.decide_ref_with(&layout, &req), set.decide_ref(&req));
    /// ```
    pub fn decide_ref_with(
        &self,
        layout: &KeyLayout,
        req: &RequestRef<'_>,
    ) -> Result<Decision, ContextError> {
        let layout = Arc::ptr_eq(&layout.set, &self.inner).then_some(layout);
        self.decide_borrowed(req, layout)
    }

    /// The decision of a borrowed request, its input built in place.
    #[inline]
    fn decide_borrowed(
        &self,
        req: &RequestRef<'_>,
        layout: Option<&KeyLayout>,
    ) -> Result<Decision, ContextError> {
        let mut inp = Input::unchecked(&self.inner, req);
        inp.ingest(&self.inner, req, layout)?;
        let decision = self.run(&inp, &mut ());
        if inp.suspect(decision) {
            crate::context::check_shape(req.action, req.resource)?;
        }
        Ok(decision)
    }

    /// Resolve the context keys a caller sends, in its order, for [`PolicySet::decide_ref_with`]. Keys the set
    /// does not know are kept too (they are then skipped by one comparison). Keys are matched as
    /// [`RequestRef`] matches them: in any case.
    pub fn key_layout<'k>(&self, keys: impl IntoIterator<Item = &'k str>) -> KeyLayout {
        KeyLayout {
            set: Arc::clone(&self.inner),
            keys: keys
                .into_iter()
                .map(|k| LaidKey {
                    shape: crate::context::Shape::of(k.as_bytes()),
                    text: k.into(),
                    info: self.inner.keys.get_any_case(k).map(KeyEntry::info),
                })
                .collect(),
        }
    }

    /// Decide `req` and say why: the deciding statements and, for every statement consulted, each condition's
    /// result. The same evaluator as [`PolicySet::decide`]; a malformed request ([`Request::check`]) is an
    /// `ImplicitDeny` with no reason and no statement consulted. Spans point into each policy's text
    /// ([`crate::Policy::source`]); [`Explanation`] shows the fields.
    ///
    /// ```
    /// use iamgate::decide::{AbsentRule, Outcome};
    /// use iamgate::{Decision, Policy, PolicySet, Reason, Request};
    /// let text = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*",
    ///   "Condition": {"StringNotEqualsIfExists": {"aws:SourceVpce": "vpce-1a2b3c4d"}}}]}"#;
    /// let set = PolicySet::builder().identity(Policy::parse(text).unwrap()).build().unwrap();
    /// let ex = set.explain(&Request::new("s3:GetObject", "arn:aws:s3:::b/k"));
    /// assert_eq!(ex.decision, Decision::ExplicitDeny);
    /// let Reason::Statement { span, .. } = &ex.reasons[0] else { panic!("a statement decided") };
    /// assert_eq!(&text[span.range()], &text[text.find("{\"Effect").unwrap()..text.len() - 2]);
    /// let c = &ex.statements[0].conditions[0];
    /// assert_eq!((c.held, c.outcome), (true, Outcome::Absent(AbsentRule::IfExists)));
    /// assert_eq!(c.request_values, None);
    /// assert_eq!(c.values, ["vpce-1a2b3c4d"]);
    /// ```
    pub fn explain(&self, req: &Request) -> Explanation {
        self.explain_input(Input::owned(&self.inner, req))
    }

    /// [`PolicySet::explain`] of a borrowed request; a malformed one is an error, as in [`PolicySet::decide_ref`].
    pub fn explain_ref(&self, req: &RequestRef<'_>) -> Result<Explanation, ContextError> {
        crate::context::check_shape(req.action, req.resource)?;
        Ok(self.explain_input(Input::borrowed(&self.inner, req, None)?))
    }

    fn explain_input(&self, input: Input<'_>) -> Explanation {
        if !input.well_formed() {
            return Explanation {
                decision: Decision::ImplicitDeny,
                reasons: Vec::new(),
                statements: Vec::new(),
            };
        }
        let mut r = Recorder::default();
        let decision = self.run(&input, &mut r);
        if decision == Decision::ImplicitDeny {
            // An implicit deny is explained by the gates that lacked an Allow, not by the Allows elsewhere.
            r.reasons.retain(|x| matches!(x, Reason::NoAllow(_)));
        }
        self.locate(&mut r.reasons, &mut r.statements);
        Explanation {
            decision,
            reasons: r.reasons,
            statements: r.statements,
        }
    }

    /// The decision: the one walk, [`evaluate`], over the statements as the fastest source at hand reaches them.
    /// Without recording, on a set with an action index: by the action's plan when the set names the action, by
    /// the index's masks otherwise; else (or to record) over every policy.
    fn run<T: Tracer>(&self, input: &Input<'_>, t: &mut T) -> Decision {
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
                with_mask = Input {
                    mask: index.entry(e).map(|(m, _)| *m),
                    ..input.clone()
                };
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

/// How many condition keys a decision keeps on the stack; a set with more looks the others up each time.
const SLOTS: usize = 16;

/// Where a request's context comes from.
#[derive(Clone, Copy)]
enum Source<'r> {
    Owned(&'r Context),
    Borrowed(&'r RequestRef<'r>),
}

/// A request prepared once per decision: the statements its action matches (from the set's action index), for a
/// borrowed request where each condition key's value is, and, computed on first use, whether principal and
/// resource share an account. Nothing is allocated.
#[derive(Clone)]
pub(crate) struct Input<'r> {
    principal: Option<&'r str>,
    action: &'r str,
    resource: &'r str,
    resource_account: Option<&'r str>,
    source: Source<'r>,
    /// One bit per statement id: whether its `Action`/`NotAction` matches. `None` for an action the set names
    /// (its plan decides it, and the full walk reads the mask from its entry) and for a set too large to index
    /// (each statement matches its patterns).
    mask: Option<[u64; MASK_WORDS]>,
    /// The action's entry in the set's action index, when the set names it.
    entry: Option<usize>,
    /// `service_bit` of the action's service (every bit when it has none), for a set without an index.
    service: u64,
    /// For a borrowed request, the value of each slot's key (`None`: absent). The keys of slots past `SLOTS`
    /// are looked up by name.
    vals: [Option<&'r ValueRef<'r>>; SLOTS],
    /// For a borrowed request, the addresses parsed at ingest: `(1 + slot, address)`, 0 unused.
    ips: [(u8, IpAddr); 2],
    same_account: OnceCell<bool>,
    /// Where the resource's account field lies (`start..end`), once a literal resource pattern holding it has
    /// matched (see `crate::lower::LLiteral::account`); `(0, 0)` until then.
    resource_account_at: Cell<(u16, u16)>,
}

/// The context keys a caller sends, in its order, resolved against one [`PolicySet`] by
/// [`PolicySet::key_layout`]: see [`PolicySet::decide_ref_with`].
#[derive(Clone)]
pub struct KeyLayout {
    set: Arc<Inner>,
    /// Each key as given, and what the set knows of it.
    keys: Box<[LaidKey]>,
}

/// A key of a [`KeyLayout`].
#[derive(Clone)]
struct LaidKey {
    text: Box<str>,
    shape: crate::context::Shape,
    /// What the set knows of it.
    info: Option<KeyInfo>,
}

impl fmt::Debug for LaidKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("")
            .field(&self.text)
            .field(&self.info)
            .finish()
    }
}

impl fmt::Debug for KeyLayout {
    /// The keys and what the set knows of them (not the set).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyLayout")
            .field("keys", &self.keys)
            .finish_non_exhaustive()
    }
}

impl KeyLayout {
    /// How many places past the last key found a request's key is looked for in the layout before it is
    /// looked up in the set: keys left out of a request cost a comparison each, a key out of order at most this
    /// many.
    const LOOK_AHEAD: usize = 8;

    /// Where `key` (the same bytes) is among the [`KeyLayout::LOOK_AHEAD`] keys from `from`, and what the set
    /// knows of it.
    #[inline]
    fn find(&self, from: usize, key: &str) -> Option<(usize, Option<KeyInfo>)> {
        let ahead = self.keys.get(from..)?.iter().take(Self::LOOK_AHEAD);
        let (j, k) = ahead
            .enumerate()
            .find(|(_, k)| k.shape.is(k.text.as_bytes(), key.as_bytes()))?;
        Some((from + j, k.info))
    }
}

impl<'r> Input<'r> {
    fn base(
        set: &Inner,
        source: Source<'r>,
        action: &'r str,
        resource: &'r str,
        principal: Option<&'r str>,
        resource_account: Option<&'r str>,
    ) -> Input<'r> {
        let (entry, mask, service) = action_mask(set, action);
        Input {
            principal,
            action,
            resource,
            resource_account,
            source,
            mask,
            entry,
            service,
            vals: [None; SLOTS],
            ips: [(0, IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)); 2],
            same_account: OnceCell::new(),
            resource_account_at: Cell::new((0, 0)),
        }
    }

    /// Whether the action and resource have the shape [`crate::context::check_shape`] asks for. An action the set's
    /// index names has it (only well-formed literals get an entry), so only another is read; a resource whose
    /// account field a decision has located (`resource_account_at`) has its five colons.
    #[inline(always)]
    fn well_formed(&self) -> bool {
        !self.suspect(Decision::Allow)
    }

    /// Whether the checked forms must look at the request's shape after `decision`: always when the action is
    /// malformed or the resource does not start as `*` or an ARN does; when the resource only lacks an ARN's
    /// six fields, only if `decision` allows (a deny stands: finding the colons would cost every denied request
    /// a scan of its resource). Checked after the decision, which has often found the colons.
    #[inline(always)]
    fn suspect(&self, decision: Decision) -> bool {
        let colons_known = decision != Decision::Allow || self.resource_account_at.get().1 != 0;
        !((self.entry.is_some() || action_ok_out_of_line(self.action))
            && crate::shape::resource_ok_given(self.resource, colons_known))
    }

    /// An owned, already checked request: its entries carry their keys' hashes, so a condition finds its key
    /// by scanning them (see `Input::entry`).
    #[inline]
    fn owned(set: &Inner, req: &'r Request) -> Input<'r> {
        Input::base(
            set,
            Source::Owned(&req.context),
            &req.action,
            &req.resource,
            req.principal.as_deref(),
            req.resource_account.as_deref(),
        )
    }

    /// A borrowed request: each key matched to the set's keys case-insensitively, the values of keys with a
    /// documented type checked (an IP parsed once, here), each condition key's value put in its slot.
    #[inline]
    fn borrowed(
        set: &Inner,
        req: &'r RequestRef<'r>,
        layout: Option<&KeyLayout>,
    ) -> Result<Input<'r>, ContextError> {
        let mut inp = Input::unchecked(set, req);
        inp.ingest(set, req, layout)?;
        Ok(inp)
    }

    /// A borrowed request before [`Input::ingest`]: no context key in a slot yet.
    #[inline]
    fn unchecked(set: &Inner, req: &'r RequestRef<'r>) -> Input<'r> {
        Input::base(
            set,
            Source::Borrowed(req),
            req.action,
            req.resource,
            req.principal,
            req.resource_account,
        )
    }

    /// Put each context key of `req` in its slot (see [`Input::borrowed`]), in place.
    #[inline]
    fn ingest(
        &mut self,
        set: &Inner,
        req: &'r RequestRef<'r>,
        layout: Option<&KeyLayout>,
    ) -> Result<(), ContextError> {
        let mut next = 0;
        for (key, value) in req.context {
            let known = match layout.and_then(|l| l.find(next, key)) {
                Some((at, info)) => {
                    next = at + 1;
                    info
                }
                None => set.keys.get_any_case(key).map(KeyEntry::info),
            };
            let Some(k) = known else {
                continue;
            };
            // Text needs no check; an IP key's single address is kept.
            // A key with a documented type is single-valued: a list is refused, as `Context::insert` refuses it.
            let ip = match (k.ty, value) {
                (None, _) | (Some(KeyType::String), ValueRef::One(_)) => None,
                (Some(ty), ValueRef::One(s)) => check_type(key, ty, ScalarRef::String(s))?,
                (Some(_), ValueRef::Many(_)) => return Err(crate::context::listed(key)),
            };
            let Some((slot, cell)) = k.slot.and_then(|s| Some((s, self.vals.get_mut(s)?))) else {
                continue;
            };
            *cell = Some(value);
            if k.ty == Some(KeyType::Ip) {
                self.note_ip(slot, ip);
            }
        }
        Ok(())
    }

    /// Keep `ip`, the address of the key of `slot` (`None`: its value has none to keep), in place of any
    /// address the key had.
    #[inline]
    fn note_ip(&mut self, slot: usize, ip: Option<IpAddr>) {
        let tag = u8::try_from(slot + 1).unwrap_or(0);
        let at = match self.ips.iter().position(|&(s, _)| s == tag) {
            Some(at) => at,
            None => match self.ips.iter().position(|&(s, _)| s == 0) {
                Some(at) => at,
                // Both taken: the key is looked up and parsed again when read.
                None => return,
            },
        };
        if let Some(cell) = self.ips.get_mut(at) {
            *cell = match ip {
                Some(a) => (tag, a),
                None => (0, IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)),
            };
        }
    }

    /// The value of the key `key` (lowercase, `text_hash` `hash`), whose slot in the set is `slot`.
    #[inline]
    fn value(&self, slot: usize, key: &str, hash: u64) -> Option<Found<'r>> {
        let req = match self.source {
            Source::Owned(ctx) => return ctx.entry_hashed(key, hash).map(Found::entry),
            Source::Borrowed(req) => req,
        };
        match self.vals.get(slot) {
            Some(v) => v.map(|v| Found {
                values: Values::of(v),
                ip: self.noted_ip(slot),
            }),
            None => req.get_lower(key).map(|v| Found {
                values: Values::of(v),
                ip: None,
            }),
        }
    }

    /// The address parsed at ingest for the key of `slot`, if any (a borrowed request's).
    #[inline]
    fn noted_ip(&self, slot: usize) -> Option<IpAddr> {
        self.ips
            .iter()
            .find(|(s, _)| usize::from(*s) == slot + 1)
            .map(|(_, a)| *a)
    }

    /// The value of the key lowered condition `c` reads, as the lowered tests take it.
    #[inline]
    fn quick(&self, c: &LCondition) -> Quick<'r> {
        let slot = c.slot as usize;
        if let Source::Owned(ctx) = self.source {
            return match ctx.entry_hashed(&c.key, c.hash) {
                None => Quick::Absent,
                Some(Entry {
                    value: ContextValue::One(Scalar::String(s)),
                    ip,
                    ..
                }) => Quick::One(s, *ip),
                Some(e) => Quick::Other(Found::entry(e)),
            };
        }
        if let Some(v) = self.vals.get(slot) {
            return match v {
                None => Quick::Absent,
                Some(ValueRef::One(s)) => Quick::One(s, None),
                Some(v) => Quick::Other(Found {
                    values: Values::of(v),
                    ip: None,
                }),
            };
        }
        match self.value(slot, &c.key, c.hash) {
            None => Quick::Absent,
            Some(f) => match f.one_str() {
                Some(s) => Quick::One(s, f.ip),
                None => Quick::Other(f),
            },
        }
    }

    fn vars(&self) -> &'r dyn Vars {
        match self.source {
            Source::Owned(ctx) => ctx,
            Source::Borrowed(req) => req,
        }
    }

    /// Whether statement `st`'s `Action`/`NotAction` matches.
    #[inline]
    fn action_matches(&self, id: usize, st: &CStatement) -> bool {
        match &self.mask {
            Some(m) => m.get(id / 64).is_some_and(|w| w >> (id % 64) & 1 == 1),
            // A service whose bit the statement lacks matches none of its patterns (`NotAction` has every bit).
            None => {
                (st.any_action
                    || (st.services & self.service != 0
                        && st.actions.iter().any(|a| a.matches(self.action))))
                    != st.not_action
            }
        }
    }

    /// Whether principal and resource are in the same account (true when either is unknown), computed once.
    fn same_account(&self) -> bool {
        *self.same_account.get_or_init(|| self.accounts_agree())
    }

    /// [`Input::same_account`], computed each time (the fast path asks at most once).
    fn accounts_agree(&self) -> bool {
        use crate::policy::arn::{account_field, account_field_at, account_is};
        let Some(principal) = self.principal else {
            return true;
        };
        let (start, end) = self.resource_account_at.get();
        // An account field read from the resource ARN has no colon, as `account_is` needs.
        let (resource_account, field) = match self.resource_account {
            Some(a) => (Some(a.as_bytes()), false),
            None if end != 0 => (
                self.resource
                    .as_bytes()
                    .get(usize::from(start)..usize::from(end)),
                true,
            ),
            None => {
                let at = account_field_at(self.resource);
                // Kept for `well_formed` (and any later gate), as a literal resource test keeps it.
                if let Some((fourth, fifth)) = at.filter(|(f, e)| f + 1 < *e) {
                    if let (Ok(s), Ok(e)) = (u16::try_from(fourth + 1), u16::try_from(fifth)) {
                        self.resource_account_at.set((s, e));
                    }
                }
                let field = at.and_then(|(f, e)| self.resource.get(f + 1..e));
                (field.filter(|a| !a.is_empty()).map(str::as_bytes), true)
            }
        };
        // Without its own, the resource is in the principal's account.
        let Some(resource_account) = resource_account else {
            return true;
        };
        if field && account_is(principal.as_bytes(), resource_account) {
            return true;
        }
        let principal_account =
            account_field(principal).or_else(|| Some(principal).filter(|p| is_account_id(p)));
        principal_account.is_none_or(|p| crate::context::eq_bytes(p.as_bytes(), resource_account))
    }
}

/// [`crate::shape::action_ok`], out of line: only an action the set's index does not name needs it.
#[inline(never)]
fn action_ok_out_of_line(action: &str) -> bool {
    crate::shape::action_ok(action)
}

/// `service_bit` of the service of `action` (every bit when it has none). Out of line: only a set without an
/// action index needs it.
#[inline(never)]
fn service_bit(action: &str) -> u64 {
    action.split_once(':').map_or(u64::MAX, |(s, _)| {
        1 << (crate::context::key_hash(s.as_bytes()) & 63)
    })
}

/// A key's value as a lowered condition reads it.
enum Quick<'r> {
    Absent,
    /// One string, and its address when one was parsed already.
    One(&'r str, Option<IpAddr>),
    /// Anything else: a list, or a typed value.
    Other(Found<'r>),
}

/// For `Input`: the action's entry in the set's action index, when the set names it; otherwise, when the set has
/// an index, which of its statements the action matches; and `service_bit` of the action when it has none.
#[inline]
fn action_mask(set: &Inner, action: &str) -> (Option<usize>, Option<[u64; MASK_WORDS]>, u64) {
    let Some(index) = set.actions_for_decision() else {
        return (None, None, service_bit(action));
    };
    if let Some(i) = index.find(action) {
        return (Some(i), None, u64::MAX);
    }
    let mut m = index.unknown;
    let wild = &index.wild;
    for st in &wild.statements {
        if wild.matches(st, action) != st.not_action {
            if let Some(w) = m.get_mut(st.id / 64) {
                *w |= 1 << (st.id % 64);
            }
        }
    }
    (None, Some(m), u64::MAX)
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

/// Whether statement `st` applies to `req`: action, resource, principal and every condition.
fn applies<T: Tracer>(pl: &Placed<'_>, st: &CStatement, inp: &Input<'_>, t: &mut T) -> bool {
    let action_matched = inp.action_matches(pl.id(st), st);
    if !T::STATEMENTS && (!action_matched || st.unconditional) {
        return action_matched;
    }
    let vars = inp.vars();
    let resource_matched = resource_matches(st, inp);
    if !T::STATEMENTS && !resource_matched {
        return false;
    }
    let principal_matched = principal_applies(pl, st, inp);
    let mut applies = action_matched && resource_matched && principal_matched;
    let entry = |k: usize, c: &CCondition| inp.value(pl.slot(st, k), &c.key, c.hash);
    if !T::STATEMENTS {
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
            key: c.key.clone(),
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
fn resource_matches(st: &CStatement, inp: &Input<'_>) -> bool {
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
fn principal_applies(pl: &Placed<'_>, st: &CStatement, inp: &Input<'_>) -> bool {
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
enum Grant {
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
fn grant_of(st: &CStatement, who: Option<&str>) -> Grant {
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

/// [`applies`] without recording, for statement `id` of an indexed set whose action is known to match (the fast
/// path), on its lowered form (`crate::lower`): what the lowering left out goes to the same tests as [`applies`].
#[inline]
fn lowered_applies(set: &PolicySet, index: &ActionIndex, id: usize, inp: &Input<'_>) -> bool {
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
                r.get(..t.text.len()).is_some_and(|h| h == &t.text[..])
            } else {
                r == &t.text[..]
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

/// The kernel of docs/SEMANTICS.md §3.6, looking the key up in `req`.
pub(crate) fn condition(c: &CCondition, req: &Request) -> (bool, Outcome) {
    condition_on(c, req.context.entry(&c.key).map(Found::entry), &req.context)
}

/// The kernel of docs/SEMANTICS.md §3.6 on the value of `c`'s key (`None`: absent).
// Inlined so that the fast path, which drops the `Outcome`, does not build it.
#[inline(always)]
fn condition_on(c: &CCondition, entry: Option<Found<'_>>, vars: &dyn Vars) -> (bool, Outcome) {
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
fn null(when_absent: bool, when_present: bool, present: bool) -> (bool, Outcome) {
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
fn on_absent(qualifier: Option<Qualifier>, if_exists: bool, negated: bool) -> (bool, Outcome) {
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
fn unqualified(matched: bool, negated: bool) -> bool {
    matched != negated
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

/// [`condition_on`] on a lowered condition: the same kernel; when the request gives its key one string value (or
/// none), with the lowered leaf test, which compares the value the way [`matches_any`] does; every other case on
/// the original condition.
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

/// The lowered leaf test `test` on one string value `s` (`ip`: its address, when parsed already; `slot`: its
/// key's), as [`matches_any`] compares it on the original condition.
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

/// The request's values of `c`'s key that match a policy value under the operator's positive form, as the kernel
/// compares them (none for `Null`, which compares no value). Explaining only.
fn matched_values(c: &CCondition, entry: Option<Found<'_>>, vars: &dyn Vars) -> Vec<String> {
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
fn uncertainty(c: &CCondition, entry: Option<Found<'_>>) -> Option<&'static str> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Policy;

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

    /// `decide_ref_with` reads the layout rather than looking keys up: a forged layout that calls the set's key
    /// unknown makes the request decide as if the key were absent. (`key_layout` never builds such a layout;
    /// the forgery only shows which path the decision took.)
    #[test]
    fn decide_ref_with_reads_the_layout() {
        let text = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject",
            "Resource":"*","Condition":{"StringEquals":{"aws:SourceVpce":"vpce-1"}}}]}"#;
        let build = || {
            PolicySet::builder()
                .identity(Policy::parse(text).unwrap())
                .build()
                .unwrap()
        };
        let set = build();
        let context = [("aws:SourceVpce", ValueRef::One("vpce-1"))];
        let req = RequestRef {
            principal: Some("arn:aws:iam::111122223333:role/R"),
            action: "s3:GetObject",
            resource: "arn:aws:s3:::b/k",
            context: &context,
            ..RequestRef::default()
        };
        let layout = set.key_layout(["aws:SourceVpce"]);
        assert_eq!(set.decide_ref_with(&layout, &req), Ok(Decision::Allow));
        let mut forged = layout.clone();
        if let Some(k) = forged.keys.get_mut(0) {
            k.info = None;
        }
        assert_eq!(
            set.decide_ref_with(&forged, &req),
            Ok(Decision::ImplicitDeny)
        );
        // A clone of the set shares its layouts; an equal set built again ignores them.
        assert_eq!(
            set.clone().decide_ref_with(&forged, &req),
            Ok(Decision::ImplicitDeny)
        );
        assert_eq!(build().decide_ref_with(&forged, &req), Ok(Decision::Allow));
    }
}
