//! Decide one request against a [`PolicySet`] (SEMANTICS.md §3, §4).
//!
//! There is one evaluator. [`PolicySet::decide`] runs it with a tracer that records nothing and stops at the
//! first applicable Deny; [`PolicySet::explain`] runs the same code with a tracer that records every statement
//! and condition.

use crate::compile::{
    CCondition, CPrincipal, CStatement, CValues, CompiledPolicy, PolicyRef, PolicySet,
};
use crate::context::{ContextValue, Request, Scalar, is_account_id};
use crate::policy::operator::{Family, Qualifier};
use crate::policy::pattern::Vars;
use crate::policy::{Effect, PrincipalKind};
use serde::Serialize;
use std::fmt;

/// The outcome of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Decision {
    Allow,
    ExplicitDeny,
    ImplicitDeny,
}

impl Decision {
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

/// A gate that must allow for the request to be allowed (SEMANTICS.md §4.1-§4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Gate {
    /// Identity-based policies (or, in the same account, the resource policy).
    Identity,
    /// The resource policy, for a cross-account request.
    Resource,
    Boundary,
    Session,
    /// One SCP level.
    Scp(usize),
    Endpoint,
}

impl fmt::Display for Gate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Gate::Identity => f.write_str("identity"),
            Gate::Resource => f.write_str("resource"),
            Gate::Boundary => f.write_str("boundary"),
            Gate::Session => f.write_str("session"),
            Gate::Scp(l) => write!(f, "scps[{l}]"),
            Gate::Endpoint => f.write_str("endpoint"),
        }
    }
}

/// Why the decision came out as it did: a statement that applied, or a gate without an Allow.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Reason {
    Statement {
        policy: PolicyRef,
        sid: Option<String>,
        statement: usize,
        effect: Effect,
    },
    NoAllow(Gate),
}

impl fmt::Display for Reason {
    /// `Deny by identity[0] statement 1 (DenyOutsideCorp)`, or `no statement in boundary allows the request`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Statement {
                policy,
                sid,
                statement,
                effect,
            } => {
                write!(f, "{effect} by {policy} statement {statement}")?;
                if let Some(s) = sid {
                    write!(f, " ({s})")?;
                }
                Ok(())
            }
            Reason::NoAllow(g) => write!(f, "no statement in {g} allows the request"),
        }
    }
}

impl Serialize for Reason {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        match self {
            Reason::Statement {
                policy,
                sid,
                statement,
                effect,
            } => {
                let mut m = s.serialize_map(Some(4))?;
                m.serialize_entry("policy", &policy.to_string())?;
                m.serialize_entry("sid", sid)?;
                m.serialize_entry("statement", statement)?;
                m.serialize_entry("effect", effect)?;
                m.end()
            }
            Reason::NoAllow(g) => {
                let mut m = s.serialize_map(Some(2))?;
                m.serialize_entry("policy", &g.to_string())?;
                m.serialize_entry("effect", "NoAllow")?;
                m.end()
            }
        }
    }
}

/// Why one condition held or not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConditionTrace {
    /// Index in the statement's conditions (the order written).
    pub index: usize,
    pub operator: String,
    pub key: String,
    pub held: bool,
    /// In words: `key absent: a negated operator is true`, `203.0.113.7 is in the list`, ...
    pub why: String,
    /// When the result rests on a choice where AWS's behaviour is not settled (docs/semantics.md), which one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uncertain: Option<&'static str>,
}

/// How one statement fared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatementTrace {
    #[serde(serialize_with = "ser_display")]
    pub policy: PolicyRef,
    pub statement: usize,
    pub sid: Option<String>,
    pub effect: Effect,
    pub action_matched: bool,
    pub resource_matched: bool,
    pub principal_matched: bool,
    pub conditions: Vec<ConditionTrace>,
    /// Whether the whole statement applied to the request.
    pub applies: bool,
}

fn ser_display<T: fmt::Display, S: serde::Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

/// A decision with the statements and conditions that made it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Explanation {
    pub decision: Decision,
    pub reasons: Vec<Reason>,
    /// Every statement of every policy that was consulted.
    pub statements: Vec<StatementTrace>,
}

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

/// The services whose requests RCPs govern (SEMANTICS.md §4.1, UNCERTAIN: Control Tower's list).
const RCP_SERVICES: [&str; 5] = ["s3", "sts", "kms", "sqs", "secretsmanager"];

/// Whether RCPs govern requests for `action`.
pub fn rcp_governs(action: &str) -> bool {
    let service = action.split_once(':').map_or(action, |(s, _)| s);
    RCP_SERVICES.iter().any(|s| s.eq_ignore_ascii_case(service))
}

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
        let decision = self.run(req, &mut r);
        if decision == Decision::ImplicitDeny {
            r.0.retain(|x| matches!(x, Reason::NoAllow(_)));
        }
        (decision, r.0)
    }

    /// Decide `req`. Allocates nothing and records nothing.
    pub fn decide(&self, req: &Request) -> Decision {
        self.run(req, &mut ())
    }

    /// Decide `req` and say why: the deciding statements and, for every statement consulted, each condition's
    /// result. The same evaluator as [`PolicySet::decide`].
    pub fn explain(&self, req: &Request) -> Explanation {
        let mut r = Recorder::default();
        let decision = self.run(req, &mut r);
        if decision == Decision::ImplicitDeny {
            // An implicit deny is explained by the gates that lacked an Allow, not by the Allows elsewhere.
            r.reasons.retain(|x| matches!(x, Reason::NoAllow(_)));
        }
        Explanation {
            decision,
            reasons: r.reasons,
            statements: r.statements,
        }
    }

    fn run<T: Tracer>(&self, request: &Request, t: &mut T) -> Decision {
        let req = &Input::new(request);
        let i = &*self.inner;
        let rcps_apply = !self.inner.rcps.is_empty() && rcp_governs(&request.action);
        // 1. The deny pass over every applicable policy (§4.1).
        let mut denied = false;
        for (at, p) in self.policies() {
            if matches!(at, PolicyRef::Rcp(..)) && !rcps_apply {
                continue;
            }
            if deny_in(at, p, req, t) {
                denied = true;
                if !T::FULL {
                    return Decision::ExplicitDeny;
                }
            }
        }
        // 2. The gates: each must have an applicable Allow. In full mode every gate is evaluated so that every
        // allowing statement is recorded.
        let mut failed = false;
        let mut fail = |g: Gate, t: &mut T| {
            failed = true;
            if !denied {
                t.reason(Reason::NoAllow(g));
            }
        };
        for (l, level) in i.scps.iter().enumerate() {
            if !allow_in_any(
                level
                    .iter()
                    .enumerate()
                    .map(|(j, p)| (PolicyRef::Scp(l, j), p)),
                req,
                t,
                denied,
            ) {
                fail(Gate::Scp(l), t);
                if !T::FULL {
                    return Decision::ImplicitDeny;
                }
            }
        }
        let same_account = req.same_account;
        let identity = allow_in_any(
            i.identity
                .iter()
                .enumerate()
                .map(|(n, p)| (PolicyRef::Identity(n), p)),
            req,
            t,
            denied,
        );
        let resource = allow_in_any(
            i.resource.iter().map(|p| (PolicyRef::Resource, p)),
            req,
            t,
            denied,
        );
        if same_account {
            if !identity && !resource {
                fail(Gate::Identity, t);
            }
        } else {
            if !identity {
                fail(Gate::Identity, t);
            }
            if !resource {
                fail(Gate::Resource, t);
            }
        }
        if let Some(b) = &i.boundary {
            if !allow_in_any(std::iter::once((PolicyRef::Boundary, b)), req, t, denied) {
                fail(Gate::Boundary, t);
            }
        }
        if !i.session.is_empty()
            && !allow_in_any(
                i.session
                    .iter()
                    .enumerate()
                    .map(|(n, p)| (PolicyRef::Session(n), p)),
                req,
                t,
                denied,
            )
        {
            fail(Gate::Session, t);
        }
        if let Some(e) = &i.endpoint {
            if !allow_in_any(std::iter::once((PolicyRef::Endpoint, e)), req, t, denied) {
                fail(Gate::Endpoint, t);
            }
        }
        if denied {
            Decision::ExplicitDeny
        } else if failed {
            Decision::ImplicitDeny
        } else {
            Decision::Allow
        }
    }
}

/// A request prepared once per decision: the action lowercased (on the stack), the resource split into its six
/// fields, whether principal and resource share an account.
pub(crate) struct Input<'r> {
    pub req: &'r Request,
    pub action: ActionKey<'r>,
    pub resource: Option<[&'r str; 6]>,
    pub same_account: bool,
}

impl<'r> Input<'r> {
    fn new(req: &'r Request) -> Self {
        let resource = crate::policy::arn::split(&req.resource);
        let principal = req.principal.as_deref();
        let principal_account = principal
            .and_then(|p| {
                crate::policy::arn::split(p)
                    .map(|f| f[4])
                    .filter(|a| !a.is_empty())
            })
            .or_else(|| principal.filter(|p| is_account_id(p)));
        let resource_account = req
            .resource_account
            .as_deref()
            .or_else(|| resource.map(|f| f[4]).filter(|a| !a.is_empty()))
            .or(principal_account);
        Input {
            req,
            action: ActionKey::new(&req.action),
            resource,
            same_account: match (principal_account, resource_account) {
                (Some(p), Some(r)) => p == r,
                _ => true,
            },
        }
    }
}

/// Longest action kept lowercased on the stack; longer ones are compared case-insensitively in place.
const ACTION_BUF: usize = 128;

pub(crate) enum ActionKey<'r> {
    Lower([u8; ACTION_BUF], usize),
    Raw(&'r str),
}

impl<'r> ActionKey<'r> {
    fn new(action: &'r str) -> Self {
        let b = action.as_bytes();
        if b.len() > ACTION_BUF || !action.is_ascii() {
            return ActionKey::Raw(action);
        }
        let mut buf = [0u8; ACTION_BUF];
        for (d, s) in buf.iter_mut().zip(b) {
            *d = s.to_ascii_lowercase();
        }
        ActionKey::Lower(buf, b.len())
    }

    fn matches(&self, p: &crate::policy::action::ActionPattern) -> bool {
        match self {
            ActionKey::Lower(buf, len) => p.matches_lowercase(buf.get(..*len).unwrap_or(&[])),
            ActionKey::Raw(a) => p.matches(a),
        }
    }
}

/// Whether any Deny statement of `p` applies; records each (in full mode, all of them).
fn deny_in<T: Tracer>(at: PolicyRef, p: &CompiledPolicy, req: &Input<'_>, t: &mut T) -> bool {
    let mut any = false;
    for st in p.statements.iter().filter(|s| s.effect == Effect::Deny) {
        if applies(at, st, req, t) {
            any = true;
            // INVARIANT: the fast path builds no reason (building one clones the Sid).
            if T::FULL {
                t.reason(Reason::Statement {
                    policy: at,
                    sid: st.sid.clone(),
                    statement: st.index,
                    effect: Effect::Deny,
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
    policies: impl Iterator<Item = (PolicyRef, &'p CompiledPolicy)>,
    req: &Input<'_>,
    t: &mut T,
    denied: bool,
) -> bool {
    let mut any = false;
    for (at, p) in policies {
        for st in p.statements.iter().filter(|s| s.effect == Effect::Allow) {
            if applies(at, st, req, t) {
                any = true;
                if T::FULL && !denied {
                    t.reason(Reason::Statement {
                        policy: at,
                        sid: st.sid.clone(),
                        statement: st.index,
                        effect: Effect::Allow,
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
fn applies<T: Tracer>(at: PolicyRef, st: &CStatement, inp: &Input<'_>, t: &mut T) -> bool {
    let req = inp.req;
    let action_matched = st.actions.iter().any(|a| inp.action.matches(a)) != st.not_action;
    if !T::STATEMENTS && !action_matched {
        return false;
    }
    let vars: &dyn Vars = &req.context;
    let resource_matched = st
        .resources
        .iter()
        .any(|r| r.matches_fields(inp.resource, &req.resource, vars) == Some(true))
        != st.not_resource;
    if !T::STATEMENTS && !resource_matched {
        return false;
    }
    let principal_matched = match &st.principal {
        None => true,
        Some((negated, p)) => {
            // An account in a Principal grants only that account's root user in an endpoint policy (§1.6), and
            // in a same-account resource policy an Allow for the account delegates to identity policies rather
            // than granting by itself (docs/semantics.md #24).
            let root_only = match at {
                PolicyRef::Endpoint => true,
                PolicyRef::Resource => st.effect == Effect::Allow && inp.same_account,
                _ => false,
            };
            principal_matches(p, req, root_only) != *negated
        }
    };
    let mut applies = action_matched && resource_matched && principal_matched;
    if !T::STATEMENTS {
        return applies && st.conditions.iter().all(|c| condition(c, req).0);
    }
    let mut conditions = Vec::with_capacity(st.conditions.len());
    for (index, c) in st.conditions.iter().enumerate() {
        let (held, why) = condition(c, req);
        applies &= held;
        conditions.push(ConditionTrace {
            index,
            operator: c.op.to_string(),
            key: c.key.clone(),
            held,
            why: why.to_string(),
            uncertain: uncertainty(c, req),
        });
    }
    t.statement(StatementTrace {
        policy: at,
        statement: st.index,
        sid: st.sid.clone(),
        effect: st.effect,
        action_matched,
        resource_matched,
        principal_matched,
        conditions,
        applies,
    });
    applies
}

fn principal_matches(p: &CPrincipal, req: &Request, root_only: bool) -> bool {
    let map = match p {
        CPrincipal::Any => return true,
        CPrincipal::Map(m) => m,
    };
    let Some(who) = req.principal.as_deref() else {
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
/// caller's assumed-role session belongs to (SEMANTICS.md §1.6).
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

/// Why a condition came out as it did. Static or cheap to build; only turned into text when explaining.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Why<'a> {
    AbsentIfExists,
    AbsentForAll,
    AbsentForAny,
    AbsentPositive,
    AbsentNegated,
    NullAbsent(bool),
    NullPresent(bool),
    Compared {
        negated: bool,
        matched: bool,
        value: Option<&'a Scalar>,
        qualifier: Option<Qualifier>,
    },
}

impl fmt::Display for Why<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Why::AbsentIfExists => f.write_str("key absent: `IfExists` makes the condition true"),
            Why::AbsentForAll => f.write_str("key absent: `ForAllValues` is vacuously true"),
            Why::AbsentForAny => f.write_str("key absent: `ForAnyValue` is false"),
            Why::AbsentPositive => f.write_str("key absent: a positive operator is false"),
            Why::AbsentNegated => f.write_str("key absent: a negated operator is true"),
            Why::NullAbsent(h) => write!(f, "key absent: `Null` is {h}"),
            Why::NullPresent(h) => write!(f, "key present: `Null` is {h}"),
            Why::Compared {
                negated,
                matched,
                value,
                qualifier,
            } => {
                match value {
                    Some(v) => write!(f, "`{v}` ")?,
                    None => f.write_str("the request values ")?,
                }
                let q = match qualifier {
                    Some(Qualifier::ForAllValues) => " (all request values checked)",
                    Some(Qualifier::ForAnyValue) => " (any request value checked)",
                    None => "",
                };
                match (matched, negated) {
                    (true, false) => write!(f, "matches a policy value{q}"),
                    (false, false) => write!(f, "matches no policy value{q}"),
                    (true, true) => write!(
                        f,
                        "matches a policy value, so the negated operator is false{q}"
                    ),
                    (false, true) => write!(
                        f,
                        "matches no policy value, so the negated operator is true{q}"
                    ),
                }
            }
        }
    }
}

/// The kernel of SEMANTICS.md §3.6.
pub(crate) fn condition<'r>(c: &CCondition, req: &'r Request) -> (bool, Why<'r>) {
    let values = req.context.get_lower(&c.key);
    let op = c.op;
    if let CValues::Null {
        when_absent,
        when_present,
    } = c.values
    {
        let present = values.is_some_and(|v| !v.as_slice().is_empty());
        return if present {
            (when_present, Why::NullPresent(when_present))
        } else {
            (when_absent, Why::NullAbsent(when_absent))
        };
    }
    let mut scalars = values.map_or(&[][..], ContextValue::as_slice);
    // §3.6: for the set qualifiers a present-but-empty string counts as absent.
    if op.qualifier.is_some() && matches!(scalars, [Scalar::String(s)] if s.is_empty()) {
        scalars = &[];
    }
    let negated = op.base.is_negated();
    if scalars.is_empty() {
        if op.if_exists {
            return (true, Why::AbsentIfExists);
        }
        return match op.qualifier {
            Some(Qualifier::ForAllValues) => (true, Why::AbsentForAll),
            Some(Qualifier::ForAnyValue) => (false, Why::AbsentForAny),
            None if negated => (true, Why::AbsentNegated),
            None => (false, Why::AbsentPositive),
        };
    }
    let m = |r: &Scalar| matches_any(c, r, &req.context);
    match op.qualifier {
        None => {
            // A single-valued key; a list given without a qualifier matches when any of its values matches
            // (SEMANTICS.md §3.4, UNCERTAIN).
            let matched = scalars.iter().any(m);
            let value = match scalars {
                [one] => Some(one),
                _ => None,
            };
            (
                matched != negated,
                Why::Compared {
                    negated,
                    matched,
                    value,
                    qualifier: None,
                },
            )
        }
        Some(Qualifier::ForAnyValue) => {
            let held = scalars.iter().any(|r| m(r) != negated);
            (
                held,
                Why::Compared {
                    negated,
                    matched: held != negated,
                    value: None,
                    qualifier: op.qualifier,
                },
            )
        }
        Some(Qualifier::ForAllValues) => {
            let held = scalars.iter().all(|r| m(r) != negated);
            (
                held,
                Why::Compared {
                    negated,
                    matched: held != negated,
                    value: None,
                    qualifier: op.qualifier,
                },
            )
        }
    }
}

/// The unsettled rule of docs/semantics.md that evaluating `c` on `req` relies on, if any.
fn uncertainty(c: &CCondition, req: &Request) -> Option<&'static str> {
    let values = req
        .context
        .get_lower(&c.key)
        .map_or(&[][..], ContextValue::as_slice);
    let negated = c.op.base.is_negated();
    if values.is_empty() {
        return (c.op.qualifier == Some(Qualifier::ForAllValues) && negated && !c.op.if_exists).then_some(
            "`ForAllValues:` with a negated operator on an absent key is taken as true (docs/semantics.md #19)",
        );
    }
    if c.op.qualifier.is_none() && values.len() > 1 {
        return Some(
            "a list of values for a key used without `ForAnyValue:`/`ForAllValues:` matches when any value matches (docs/semantics.md #17)",
        );
    }
    if c.op.qualifier.is_none() && matches!(values, [Scalar::String(s)] if s.is_empty()) {
        return Some("an empty string is taken as a present value (docs/semantics.md #18)");
    }
    let malformed = match &c.values {
        CValues::Numeric(v) => v.iter().any(Option::is_none),
        CValues::Date(v) => v.iter().any(Option::is_none),
        CValues::Binary(v) => v.iter().any(Option::is_none),
        _ => false,
    };
    if malformed {
        return Some(
            "a policy value that does not parse for its operator never matches (docs/semantics.md #13)",
        );
    }
    if matches!(c.values, CValues::Ip(_))
        && values.iter().any(
            |v| matches!(v.ip(), Some(std::net::IpAddr::V6(a)) if a.to_ipv4_mapped().is_some()),
        )
    {
        return Some(
            "an IPv4-mapped IPv6 address never matches an IPv4 range (docs/semantics.md #16)",
        );
    }
    None
}

/// Whether request value `r` matches any policy value under the positive counterpart of the operator.
fn matches_any(c: &CCondition, r: &Scalar, vars: &dyn Vars) -> bool {
    match (&c.values, c.op.base.family()) {
        (CValues::Exact(ps), _) => ps
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
        (CValues::Ip(set), _) => r.ip().is_some_and(|ip| set.contains(ip)),
        (CValues::Arn(ps), _) => ps.iter().any(|p| p.matches(r.text(), vars) == Some(true)),
        _ => false,
    }
}
