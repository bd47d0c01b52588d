//! Decide one request against a [`PolicySet`] (docs/SEMANTICS.md §3, §4): the public surface ([`Decision`], the
//! decide and explain entry points of [`PolicySet`], [`KeyLayout`]) and the `Tracer` that says what a walk
//! records.
//!
//! Each AWS rule is written once, and each concern has its module, in the order a decision meets them:
//!
//! - `input`: the request prepared once per decision (`Input`): the statements its action matches (the set's
//!   action index), a borrowed request's context keys in their slots ([`KeyLayout`]), where the accounts lie;
//! - `condition`: the condition kernel (`kernel`, with its rules for `Null`, an absent key and a key without a
//!   qualifier) and the comparison of one value (`matches_any`), on a key's values, whatever the walk;
//! - `statement`: whether a statement applies (`applies`: action, resource, principal, conditions), principal
//!   matching (`principal_applies`) and how a resource policy's Allow names the caller (`grant_of`);
//! - `lowered`: the same test on a statement's lowered form (`lowered_applies`), the fast path's, whose leaf
//!   tests compare one value as `matches_any` does and hand everything else to the general tests;
//! - `walk`: the gates (SCP levels, RCPs, the resource policy in one account and across accounts, identity,
//!   boundary, session, endpoint) in `evaluate`, the one walk every decision takes, and the `StatementSource`s
//!   that reach the statements for it;
//! - `explain`: what [`PolicySet::explain`] returns.
//!
//! What differs between the paths is only how `evaluate` reaches statements, monomorphised so that the fast path
//! pays nothing for the tracer: `Walk` visits every policy in order and tests each statement with `applies`,
//! recording what [`PolicySet::explain`] shows; `Planned` (an action the set's index names) visits the statements
//! of the action's plan, `Indexed` (another action) those the index's masks say match, both by `lowered_applies`.
//! Property tests and the `decide_differential` fuzz target check that the sources, and
//! [`PolicySet::decide_ref`] on a borrowed request, decide alike. Each module imports only those before it in
//! this list (tests/it/layout.rs checks it).

mod condition;
mod input;
mod lowered;
mod statement;
mod walk;

pub(crate) use condition::{condition, matches_any};
use input::Input;
pub use input::KeyLayout;

use crate::compile::PolicySet;
use crate::context::{ContextError, Request, RequestRef};
use serde::Serialize;
use std::fmt;
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
    /// [`Tracer::STATEMENTS`], asked of the tracer: in WebAssembly one tracer type records with statements or
    /// without, so that the walk is compiled twice (`()` and [`Recorder`]), not three times.
    #[cfg(target_arch = "wasm32")]
    fn wants_statements(&self) -> bool {
        Self::STATEMENTS
    }
}

impl Tracer for () {
    const FULL: bool = false;
}

#[derive(Default)]
struct Recorder {
    statements: Vec<StatementTrace>,
    reasons: Vec<Reason>,
    /// In WebAssembly, whether to record only the reasons, as [`Reasons`] does natively.
    #[cfg(target_arch = "wasm32")]
    only_reasons: bool,
}

impl Tracer for Recorder {
    const FULL: bool = true;
    fn statement(&mut self, t: StatementTrace) {
        self.statements.push(t);
    }
    fn reason(&mut self, r: Reason) {
        self.reasons.push(r);
    }
    #[cfg(target_arch = "wasm32")]
    fn wants_statements(&self) -> bool {
        !self.only_reasons
    }
}

pub use crate::rules::Gate;

/// Records only the reasons: every deciding statement, without the per-condition trace. (In WebAssembly a
/// [`Recorder`] that records only the reasons takes its place.)
#[derive(Default)]
#[cfg_attr(target_arch = "wasm32", allow(dead_code))]
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
        #[cfg(not(target_arch = "wasm32"))]
        let mut r = Reasons::default();
        #[cfg(target_arch = "wasm32")]
        let mut r = Recorder {
            only_reasons: true,
            ..Recorder::default()
        };
        let input = Input::owned(&self.inner, req);
        let decision = self.run(&input, &mut r);
        if !input.well_formed() {
            return (Decision::ImplicitDeny, Vec::new());
        }
        #[cfg(not(target_arch = "wasm32"))]
        let mut reasons = r.0;
        #[cfg(target_arch = "wasm32")]
        let mut reasons = r.reasons;
        if decision == Decision::ImplicitDeny {
            reasons.retain(|x| matches!(x, Reason::NoAllow(_)));
        }
        self.locate(&mut reasons, &mut []);
        (decision, reasons)
    }

    /// Decide `req`. Allocates nothing and records nothing (but once: the second decision of a set built by
    /// [`crate::PolicySetBuilder::build_lazy`] or [`PolicySet::with_endpoint`] builds its action index and, unless
    /// a borrowed request made it first, its table of context keys).
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
    /// without building it. Allocates nothing unless a value is refused (or, once, as [`PolicySet::decide`] says;
    /// a lazily built set's first borrowed decision also makes its table of context keys). A value that its key's documented
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
}
