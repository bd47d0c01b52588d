//! Compile policies once into an immutable [`PolicySet`]: patterns precompiled, CIDR lists merged into sorted
//! range tables, keys lowercased, values typed. Do not recompile per request: build once, share (it is
//! `Send + Sync` and cheap to clone), decide many.

use crate::diagnostic::Diagnostic;
use crate::policy::PolicyKind;
use crate::policy::action::ActionPattern;
use crate::policy::arn::ArnPattern;
use crate::policy::operator::Family;
use crate::policy::pattern::Pattern;
use crate::policy::value::{decode_base64, parse_cidr, parse_number};
use crate::policy::{Effect, Policy, Principal, Statement};
use std::fmt;
use std::sync::Arc;

pub(crate) use crate::ir::{
    CCondition, CPrincipal, CStatement, CValues, LiteralSet, MASK_WORDS, Statements,
};
use crate::ir::{buckets, probe};

/// Where a policy sits in a request's evaluation (docs/FORMATS.md §2: the names used in decisions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PolicyRef {
    /// An SCP: (level, index in the level), levels numbered from 0 at the organisation's root down to the
    /// account, in the order [`PolicySetBuilder::scp_level`] added them. Written `scps[L][j]`.
    Scp(usize, usize),
    /// An RCP: (level, index in the level), numbered as for [`PolicyRef::Scp`]. Written `rcps[L][j]`.
    Rcp(usize, usize),
    /// The resource-based policy (or the trust or key policy: [`ResourceKind`]). Written `resource`.
    Resource,
    /// The i-th identity-based policy, in the order added (0-based). Written `identity[i]`.
    Identity(usize),
    /// The permissions boundary. Written `boundary`.
    Boundary,
    /// The i-th session policy, in the order added (0-based). Written `session[i]`.
    Session(usize),
    /// The policy of the VPC endpoint the request came through. Written `endpoint`.
    Endpoint,
}

impl fmt::Display for PolicyRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicyRef::Identity(i) => write!(f, "identity[{i}]"),
            PolicyRef::Resource => f.write_str("resource"),
            PolicyRef::Boundary => f.write_str("boundary"),
            PolicyRef::Session(i) => write!(f, "session[{i}]"),
            PolicyRef::Scp(l, j) => write!(f, "scps[{l}][{j}]"),
            PolicyRef::Rcp(l, j) => write!(f, "rcps[{l}][{j}]"),
            PolicyRef::Endpoint => f.write_str("endpoint"),
        }
    }
}

impl PolicyRef {
    /// Whether this kind of policy carries a `Principal` element (resource-based policies, endpoint policies
    /// and RCPs) or must not (identity-based policies, boundaries, session policies, SCPs).
    pub fn needs_principal(self) -> bool {
        self.kind().takes_principal()
    }

    /// The kind of policy this place holds (a resource-based policy as [`PolicyKind::Resource`]; see
    /// [`ResourceKind::policy_kind`] for trust and key policies).
    ///
    /// ```
    /// use iamgate::{PolicyKind, PolicyRef};
    /// assert_eq!(PolicyRef::Scp(0, 1).kind(), PolicyKind::Scp);
    /// assert_eq!(PolicyRef::Identity(2).kind(), PolicyKind::Identity);
    /// ```
    pub fn kind(self) -> PolicyKind {
        match self {
            PolicyRef::Identity(_) => PolicyKind::Identity,
            PolicyRef::Resource => PolicyKind::Resource,
            PolicyRef::Boundary => PolicyKind::Boundary,
            PolicyRef::Session(_) => PolicyKind::Session,
            PolicyRef::Scp(..) => PolicyKind::Scp,
            PolicyRef::Rcp(..) => PolicyKind::Rcp,
            PolicyRef::Endpoint => PolicyKind::Endpoint,
        }
    }
}

/// Which kind of VPC endpoint an endpoint policy belongs to (docs/SEMANTICS.md §1.6): they read an account in
/// `Principal` differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EndpointKind {
    /// An interface endpoint (PrivateLink: the SageMaker API and Studio endpoints, and most services): an
    /// account principal means every principal of that account.
    #[default]
    Interface,
    /// A gateway endpoint (S3, DynamoDB): an account principal means only that account's root user.
    Gateway,
}

/// What the resource-based policy of a set is (docs/SEMANTICS.md §4.1): its own rules apply when the request names
/// the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ResourceKind {
    /// A resource-based policy (S3 bucket, SQS queue, ...).
    #[default]
    Resource,
    /// A role trust policy, for `sts:AssumeRole*` on the role: it has no `Resource`, and it must itself allow.
    Trust,
    /// A KMS key policy: it must itself allow; an Allow for the account delegates to IAM policies.
    Key,
}

impl ResourceKind {
    /// The kind `lint` and `compile` check such a policy as.
    pub fn policy_kind(self) -> PolicyKind {
        match self {
            ResourceKind::Resource => PolicyKind::Resource,
            ResourceKind::Trust => PolicyKind::Trust,
            ResourceKind::Key => PolicyKind::Key,
        }
    }
}

/// How an account in a statement's `Principal` matches (docs/SEMANTICS.md §1.6, docs/SEMANTICS.md §9 row 24).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum AccountMatch {
    /// Every principal of the account.
    #[default]
    Any,
    /// Only the account's root user (a gateway endpoint's policy).
    RootOnly,
    /// Only the root user when principal and resource share the account (an Allow of a resource-based
    /// policy: it delegates to identity policies rather than granting by itself); every principal otherwise.
    RootOnlySameAccount,
}

/// A policy that cannot be used where it was given: the first error of a set, with every other one in
/// [`CompileError::others`] (see [`CompileError::errors`]).
///
/// ```
/// use iamgate::{CompileError, Policy, PolicySet, PolicyRef};
/// // Two identity policies, each with a `Principal`, which identity-based policies must not have.
/// let bad = || Policy::parse(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
///     "Principal":"*","Action":"s3:GetObject","Resource":"*"}]}"#).unwrap();
/// let e: CompileError = PolicySet::builder().identity(bad()).identity(bad()).build().unwrap_err();
/// assert_eq!(e.policy, PolicyRef::Identity(0));
/// let places: Vec<PolicyRef> = e.errors().map(|e| e.policy).collect();
/// assert_eq!(places, [PolicyRef::Identity(0), PolicyRef::Identity(1)]);
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{policy}: {}", .diagnostic.message)]
pub struct CompileError {
    /// Where the (first) offending policy sits.
    pub policy: PolicyRef,
    /// Its source text, which `diagnostic`'s span points into.
    pub source_text: Arc<str>,
    /// What is wrong: an error with its stable code, message and help, and the byte span in `source_text` it
    /// points at (the CLI prints it as docs/FORMATS.md §7 says). Refusals that IAM or Organizations would give
    /// when such a policy is saved (docs/SEMANTICS.md §1.12) are among them.
    pub diagnostic: Box<Diagnostic>,
    /// Every other error of the set, in the order of [`PolicySet::policies`], then of the statements; each
    /// has no `others` of its own.
    pub others: Vec<CompileError>,
}

impl CompileError {
    /// Every error: this one, then [`CompileError::others`].
    pub fn errors(&self) -> impl Iterator<Item = &CompileError> {
        std::iter::once(self).chain(self.others.iter())
    }

    /// One error of many, the first holding the rest; `None` for none.
    fn gather(mut all: Vec<CompileError>) -> Option<CompileError> {
        if all.is_empty() {
            return None;
        }
        let mut first = all.remove(0);
        first.others.extend(all);
        Some(first)
    }

    /// This error and its `others`, flat.
    fn flatten(mut self) -> Vec<CompileError> {
        let others = std::mem::take(&mut self.others);
        let mut all = Vec::with_capacity(1 + others.len());
        all.push(self);
        all.extend(others);
        all
    }
}

/// One policy, parsed and compiled for a kind of place (identity, SCP, endpoint, ...). Immutable and shared:
/// cloning it is cheap, and every set that uses it shares its statements; what depends on the set (statement
/// ids, condition-key slots, principal rules) lives in the set (see `Inner::places`).
///
/// ```
/// use iamgate::{CompiledPolicy, Policy, PolicyRef, PolicySet};
/// let p = Policy::parse(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
///     "Action":"s3:GetObject","Resource":"*"}]}"#).unwrap();
/// let shared = CompiledPolicy::compile(p, PolicyRef::Identity(0)).unwrap();
/// let a = PolicySet::builder().identity_compiled(shared.clone()).build().unwrap();
/// let b = PolicySet::builder().identity_compiled(shared.clone()).build().unwrap();
/// assert!(a.get(PolicyRef::Identity(0)).unwrap().shares(&shared));
/// assert!(b.get(PolicyRef::Identity(0)).unwrap().shares(&shared));
/// ```
#[derive(Debug, Clone)]
pub struct CompiledPolicy {
    pub(crate) policy: Arc<Policy>,
    pub(crate) statements: Statements,
    /// The kind it was compiled as: it may sit at any place of that kind.
    kind: PolicyKind,
}

impl CompiledPolicy {
    /// The parsed policy it was compiled from, with its source text and spans (shared, not copied).
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Compile `policy` for a place of `at`'s kind (a resource-based policy as an ordinary one: see
    /// [`PolicySetBuilder::resource_as`] for trust and key policies). Every error is collected (see
    /// [`CompileError::errors`]).
    pub fn compile(policy: Policy, at: PolicyRef) -> Result<CompiledPolicy, CompileError> {
        CompiledPolicy::compile_as(policy, at, ResourceKind::Resource)
    }

    /// Whether `self` and `other` are the same compiled policy (one compilation, shared).
    pub fn shares(&self, other: &CompiledPolicy) -> bool {
        Arc::ptr_eq(&self.statements.0, &other.statements.0)
    }

    /// Compile `policy` for its place `at`; `resource` says what a resource-based policy is. What IAM or
    /// Organizations refuses when such a policy is saved is an error (`crate::refuse`).
    pub(crate) fn compile_as(
        policy: Policy,
        at: PolicyRef,
        resource: ResourceKind,
    ) -> Result<CompiledPolicy, CompileError> {
        let fail = |diagnostic: Diagnostic| CompileError {
            policy: at,
            source_text: policy.source_arc().clone(),
            diagnostic: Box::new(diagnostic),
            others: Vec::new(),
        };
        let kind = policy_kind(at, resource);
        let mut errors: Vec<CompileError> = crate::refuse::refusals(&policy, kind)
            .into_iter()
            .map(fail)
            .collect();
        let variables = policy.variables_enabled();
        let trust = at == PolicyRef::Resource && resource == ResourceKind::Trust;
        let mut statements = Vec::with_capacity(policy.statements.len());
        let mut cond_at = 0;
        for st in &policy.statements {
            match compile_statement(st, at, variables, trust) {
                Ok(mut c) => {
                    c.cond_at = cond_at;
                    cond_at += c.conditions.len();
                    statements.push(c);
                }
                Err(d) => errors.push(fail(d)),
            }
        }
        if let Some(e) = CompileError::gather(errors) {
            return Err(e);
        }
        Ok(CompiledPolicy {
            policy: Arc::new(policy),
            statements: Statements(statements.into()),
            kind,
        })
    }

    /// `self` if it was compiled for `at`'s kind, else its policy compiled afresh for it.
    fn placed_at(
        self,
        at: PolicyRef,
        resource: ResourceKind,
    ) -> Result<CompiledPolicy, CompileError> {
        if self.kind == policy_kind(at, resource) {
            return Ok(self);
        }
        CompiledPolicy::compile_as((*self.policy).clone(), at, resource)
    }
}

/// The kind `crate::refuse` checks a policy at `at` as.
pub(crate) fn policy_kind(at: PolicyRef, resource: ResourceKind) -> PolicyKind {
    match at {
        PolicyRef::Resource => resource.policy_kind(),
        _ => at.kind(),
    }
}

/// `trust`: the statement is a role trust policy's, which has no `Resource` (the role is the resource).
fn compile_statement(
    st: &Statement,
    at: PolicyRef,
    variables: bool,
    trust: bool,
) -> Result<CStatement, Diagnostic> {
    let principal = match (&st.principal, at.needs_principal()) {
        (Some(p), true) => Some((
            p.negated,
            match &p.principal {
                Principal::Any => CPrincipal::Any,
                Principal::Map(m) => CPrincipal::Map(
                    m.iter()
                        .map(|(k, vs)| (k.value, vs.iter().map(|v| v.value.to_string()).collect()))
                        .collect(),
                ),
            },
        )),
        (Some(p), false) => {
            let what = if p.negated {
                "NotPrincipal"
            } else {
                "Principal"
            };
            return Err(Diagnostic::error(
                "principal-not-allowed",
                p.span,
                format!("`{what}` is not allowed in {}", kind_name(at)),
            )
            .with_help("identity-based policies, permissions boundaries, session policies and SCPs apply to the principal they are attached to; remove the element"));
        }
        (None, true) => {
            return Err(Diagnostic::error(
                "missing-principal",
                st.span,
                format!(
                    "the statement has no `Principal`, which {} require",
                    kind_name(at)
                ),
            )
            .with_help(
                "add `\"Principal\": \"*\"` and narrow it with a condition, or name the principals",
            ));
        }
        (None, false) => None,
    };
    let any_resource_element = crate::policy::ResourceElement {
        negated: false,
        span: st.span,
        patterns: Vec::new(),
    };
    let resource = match &st.resource {
        Some(r) => r,
        None if trust => &any_resource_element,
        None => return Err(Diagnostic::error(
            "missing-resource",
            st.span,
            "the statement has no `Resource` or `NotResource`",
        )
        .with_help("add `\"Resource\": \"*\"` or the ARNs the statement is about; a role trust policy has none, but then the request must be `sts:AssumeRole*` on the role")),
    };
    let mut conditions = Vec::with_capacity(st.conditions.len());
    for c in &st.conditions {
        let vars = variables && c.operator.value.base.accepts_variables();
        let texts = || c.values.iter().map(|v| v.value.text());
        let values = match c.operator.value.base.family() {
            Family::String { ignore_case: false } => {
                let ps: Vec<Pattern> = texts().map(|t| Pattern::parse(t, false, vars)).collect();
                let set = LiteralSet::of(&ps);
                CValues::Exact(ps, set)
            }
            Family::String { ignore_case: true } => {
                CValues::IgnoreCase(texts().map(|t| Pattern::parse(t, false, vars)).collect())
            }
            Family::StringLike => {
                CValues::Like(texts().map(|t| Pattern::parse(t, true, vars)).collect())
            }
            Family::Numeric(_) => CValues::Numeric(texts().map(parse_number).collect()),
            Family::Date(_) => CValues::Date(texts().map(|t| t.parse().ok()).collect()),
            Family::Bool => {
                CValues::Bool(texts().map(|t| Pattern::parse(t, false, vars)).collect())
            }
            Family::Binary => CValues::Binary(texts().map(decode_base64).collect()),
            Family::Ip => CValues::Ip(Arc::new(
                texts().filter_map(|t| parse_cidr(t).ok()).collect(),
            )),
            Family::Arn => CValues::Arn(texts().map(|t| ArnPattern::parse(t, vars)).collect()),
            Family::Null => CValues::Null {
                when_absent: texts().any(|t| t.eq_ignore_ascii_case("true")),
                when_present: texts().any(|t| t.eq_ignore_ascii_case("false")),
            },
        };
        let key = c.key_lower();
        conditions.push(CCondition {
            op: c.operator.value,
            hash: crate::context::text_hash(key.as_bytes()),
            key,
            values,
        });
    }
    let actions: Vec<ActionPattern> = st.action.patterns.iter().map(|p| p.value.clone()).collect();
    let services = if st.action.negated {
        u64::MAX
    } else {
        actions.iter().fold(0, |m, a| m | a.service_bit())
    };
    let resources: Vec<ArnPattern> = resource
        .patterns
        .iter()
        .map(|p| ArnPattern::parse(&p.value, variables))
        .collect();
    let any_action = actions.iter().any(|a| a.glob().is_any());
    let any_resource =
        (trust && st.resource.is_none()) || resources.iter().any(|r| matches!(r, ArnPattern::Any));
    Ok(CStatement {
        unconditional: any_resource
            && !resource.negated
            && conditions.is_empty()
            && matches!(principal, None | Some((false, CPrincipal::Any))),
        index: st.index,
        cond_at: 0,
        wild: !any_action && actions.iter().any(|a| a.glob().has_wildcards()),
        any_action,
        any_resource,
        sid: st.sid.as_ref().map(|s| s.value.to_string()),
        effect: st.effect.value,
        principal,
        not_action: st.action.negated,
        actions,
        services,
        not_resource: resource.negated,
        resources,
        conditions,
    })
}

fn kind_name(at: PolicyRef) -> &'static str {
    match at {
        PolicyRef::Identity(_) => "an identity-based policy",
        PolicyRef::Resource => "resource-based policies",
        PolicyRef::Boundary => "a permissions boundary",
        PolicyRef::Session(_) => "a session policy",
        PolicyRef::Scp(..) => "a service control policy",
        PolicyRef::Rcp(..) => "resource control policies",
        PolicyRef::Endpoint => "VPC endpoint policies",
    }
}

#[derive(Debug, Default)]
#[repr(C)]
pub(crate) struct Inner {
    /// Which statements each action the set names matches, when `index.on` (not for a set of more than
    /// `MASK_WORDS * 64` statements): see [`Inner::actions`]. Built with the set (see
    /// [`PolicySetBuilder::build`]). First: a decision reads it first (see [`ActionIndex`]).
    index: ActionIndex,
    /// Whether the index is built on the set's second decision, in `later`, instead (a set built to decide once
    /// or a few times, [`PolicySetBuilder::build_lazy`]): one decision walks the policies instead.
    lazy: bool,
    later: std::sync::OnceLock<ActionIndex>,
    /// Whether a decision has gone without the index (a lazy set builds it on the next).
    walked: std::sync::atomic::AtomicBool,
    pub scps: Vec<Vec<CompiledPolicy>>,
    pub rcps: Vec<Vec<CompiledPolicy>>,
    pub resource: Option<CompiledPolicy>,
    pub identity: Vec<CompiledPolicy>,
    pub boundary: Option<CompiledPolicy>,
    pub session: Vec<CompiledPolicy>,
    pub endpoint: Option<CompiledPolicy>,
    /// The kind of VPC endpoint `endpoint` belongs to.
    pub endpoint_kind: EndpointKind,
    /// What `resource` is.
    pub resource_kind: ResourceKind,
    /// The condition keys of every statement, and the keys checked at ingest.
    pub keys: KeyTable,
    /// Per policy, in the order of [`Inner::policies`]: its first statement id and where its conditions' slots
    /// start in `slots`. The set's side of its shared compiled policies.
    places: Vec<(u32, u32)>,
    /// The slot of each condition of the set (policies in order, then statements, then conditions): within a
    /// set, two conditions share a slot exactly when they test the same key; a decision keeps the request's
    /// value of that key there.
    slots: Vec<u32>,
    /// How many statements the set has.
    statement_count: usize,
}

/// A policy at its place in a set: what a decision needs of the set to evaluate its statements.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Placed<'s> {
    pub at: PolicyRef,
    first_id: usize,
    /// The slots of the policy's conditions.
    slots: &'s [u32],
    gateway: bool,
    delegates: bool,
    boundary: bool,
}

impl Placed<'_> {
    /// Statement `st`'s id in the set: its bit in an [`ActionIndex`] mask.
    #[inline]
    pub fn id(&self, st: &CStatement) -> usize {
        self.first_id + st.index
    }

    /// The slot of condition `k` of statement `st` (one no request has, should the tables disagree).
    #[inline]
    pub fn slot(&self, st: &CStatement, k: usize) -> usize {
        self.slots
            .get(st.cond_at + k)
            .map_or(u32::MAX as usize, |&s| s as usize)
    }

    /// How an account in `st`'s `Principal` matches (docs/SEMANTICS.md §1.6, §9 row 24).
    #[inline]
    pub fn account_match(&self, st: &CStatement) -> AccountMatch {
        match (self.at, st.effect) {
            (PolicyRef::Endpoint, _) if self.gateway => AccountMatch::RootOnly,
            (PolicyRef::Resource, Effect::Allow) if !self.delegates => {
                AccountMatch::RootOnlySameAccount
            }
            _ => AccountMatch::Any,
        }
    }

    /// A resource-policy `Deny` with `NotPrincipal` in a set with a permissions boundary: it applies to the
    /// principal whatever `NotPrincipal` lists (docs/SEMANTICS.md §4.1, AWS's boundaries page).
    #[inline]
    pub fn deny_any_principal(&self, st: &CStatement) -> bool {
        self.at == PolicyRef::Resource
            && st.effect == Effect::Deny
            && self.boundary
            && matches!(st.principal, Some((true, _)))
    }
}

impl Inner {
    /// Number the statements, give each distinct condition key a slot (where a decision keeps the request's
    /// value of that key), and, unless `lazy`, index the actions the set names. The compiled policies are
    /// shared, not copied: the numbering goes to the set's side tables.
    fn intern(mut self, lazy: bool) -> Inner {
        let keys: Vec<(u64, String)>;
        let mut places = Vec::new();
        let mut slots = Vec::new();
        let mut id = 0usize;
        {
            // Each key's slot: found in the list of keys while they are few (the usual set), without hashing
            // them; through a map once they are many.
            const SMALL_KEYS: usize = 16;
            let mut listed: Vec<(u64, &str)> = Vec::new();
            let mut slot_of: crate::map::Map<&str, u32> = crate::map::Map::new();
            let mut hashed = false;
            let slot = |i: usize| u32::try_from(i).unwrap_or(u32::MAX);
            for (_, p) in self.policies() {
                places.push((slot(id), slot(slots.len())));
                id += p.statements.len();
                for c in p.statements.iter().flat_map(|st| st.conditions.iter()) {
                    let key = c.key.as_str();
                    if !hashed && listed.len() >= SMALL_KEYS {
                        for (i, (_, k)) in listed.iter().enumerate() {
                            slot_of.insert(*k, slot(i));
                        }
                        hashed = true;
                    }
                    let found = if !hashed {
                        listed
                            .iter()
                            .position(|(h, k)| *h == c.hash && *k == key)
                            .map(slot)
                    } else {
                        slot_of.get(key).copied()
                    };
                    let at = found.unwrap_or_else(|| {
                        listed.push((c.hash, key));
                        let at = slot(listed.len() - 1);
                        if hashed {
                            slot_of.insert(key, at);
                        }
                        at
                    });
                    slots.push(at);
                }
            }
            keys = listed
                .into_iter()
                .map(|(h, k)| (h, k.to_string()))
                .collect();
        }
        self.places = places;
        self.slots = slots;
        self.statement_count = id;
        self.keys = KeyTable::build(keys);
        self.lazy = lazy;
        if !lazy {
            self.index = self.build_index();
        }
        self
    }

    /// The action index of the set (an empty one, `on` false, when it has none).
    fn build_index(&self) -> ActionIndex {
        (self.statement_count <= MASK_WORDS * 64 && !self.needs_full_walk())
            .then(|| ActionIndex::build(self, self.statement_count))
            .flatten()
            .unwrap_or_default()
    }

    /// Whether a decision must take the full walk: a resource-based policy whose grant depends on how it names
    /// the caller (with a boundary or session policies, docs/SEMANTICS.md §4.1), or a trust or key policy, which
    /// must itself allow. The action index's plans and gates do not model these; such sets are rare.
    fn needs_full_walk(&self) -> bool {
        self.resource.is_some()
            && (self.boundary.is_some()
                || !self.session.is_empty()
                || self.resource_kind != ResourceKind::Resource)
    }

    /// The action index, when the set has one (and, for a lazy set, has built it).
    #[inline]
    pub fn actions(&self) -> Option<&ActionIndex> {
        if self.index.on {
            return Some(&self.index);
        }
        self.built_later()
    }

    /// A lazy set's index, when built.
    #[cold]
    #[inline(never)]
    fn built_later(&self) -> Option<&ActionIndex> {
        self.later.get().filter(|i| i.on)
    }

    /// The action index for a decision about to be made: a lazy set's first decision goes without it (one
    /// decision costs less walking the policies than indexing them), the next builds it.
    #[inline]
    pub fn actions_for_decision(&self) -> Option<&ActionIndex> {
        if self.index.on {
            return Some(&self.index);
        }
        self.index_later()
    }

    #[cold]
    #[inline(never)]
    fn index_later(&self) -> Option<&ActionIndex> {
        if !self.lazy {
            return None;
        }
        if let Some(i) = self.later.get() {
            return i.on.then_some(i);
        }
        if !self.walked.swap(true, std::sync::atomic::Ordering::Relaxed) {
            return None;
        }
        let i = self.later.get_or_init(|| self.build_index());
        i.on.then_some(i)
    }

    /// Whether the action index has been built (for tests of laziness).
    #[cfg(test)]
    pub fn indexed(&self) -> bool {
        !self.lazy || self.later.get().is_some()
    }

    /// The ordinal of the policy at `at` in the order of [`Inner::policies`].
    fn ordinal(&self, at: PolicyRef) -> usize {
        let scps: usize = self.scps.iter().map(Vec::len).sum();
        let rcps: usize = self.rcps.iter().map(Vec::len).sum();
        let before = |levels: &[Vec<CompiledPolicy>], l: usize| -> usize {
            levels.iter().take(l).map(Vec::len).sum()
        };
        let resource = usize::from(self.resource.is_some());
        let identity = scps + rcps + resource;
        let boundary = identity + self.identity.len();
        let session = boundary + usize::from(self.boundary.is_some());
        match at {
            PolicyRef::Scp(l, j) => before(&self.scps, l) + j,
            PolicyRef::Rcp(l, j) => scps + before(&self.rcps, l) + j,
            PolicyRef::Resource => scps + rcps,
            PolicyRef::Identity(n) => identity + n,
            PolicyRef::Boundary => boundary,
            PolicyRef::Session(n) => session + n,
            PolicyRef::Endpoint => session + self.session.len(),
        }
    }

    /// The policy at `at` with the set's side of it.
    #[inline]
    pub(crate) fn placed(&self, at: PolicyRef) -> Placed<'_> {
        let (first_id, first_slot) = self
            .places
            .get(self.ordinal(at))
            .copied()
            .unwrap_or_default();
        Placed {
            at,
            first_id: first_id as usize,
            slots: self.slots.get(first_slot as usize..).unwrap_or_default(),
            gateway: self.endpoint_kind == EndpointKind::Gateway,
            delegates: self.resource_kind != ResourceKind::Resource,
            boundary: self.boundary.is_some(),
        }
    }

    /// Every policy with its place, in evaluation order (see [`PolicySet::policies`]).
    pub(crate) fn policies(&self) -> impl Iterator<Item = (PolicyRef, &CompiledPolicy)> {
        let i = self;
        let scps = i.scps.iter().enumerate().flat_map(|(l, lv)| {
            lv.iter()
                .enumerate()
                .map(move |(j, p)| (PolicyRef::Scp(l, j), p))
        });
        let rcps = i.rcps.iter().enumerate().flat_map(|(l, lv)| {
            lv.iter()
                .enumerate()
                .map(move |(j, p)| (PolicyRef::Rcp(l, j), p))
        });
        scps.chain(rcps)
            .chain(i.resource.iter().map(|p| (PolicyRef::Resource, p)))
            .chain(
                i.identity
                    .iter()
                    .enumerate()
                    .map(|(n, p)| (PolicyRef::Identity(n), p)),
            )
            .chain(i.boundary.iter().map(|p| (PolicyRef::Boundary, p)))
            .chain(
                i.session
                    .iter()
                    .enumerate()
                    .map(|(n, p)| (PolicyRef::Session(n), p)),
            )
            .chain(i.endpoint.iter().map(|p| (PolicyRef::Endpoint, p)))
    }

    /// Every statement with its conditions' slots, in the order of `PolicySet::policies` (the order of their
    /// ids).
    pub(crate) fn statements(&self) -> impl Iterator<Item = (&CStatement, &[u32])> {
        self.policies()
            .zip(&self.places)
            .flat_map(move |((_, p), &(_, first))| {
                let slots = self.slots.get(first as usize..).unwrap_or_default();
                p.statements.iter().map(move |st| {
                    let n = st.conditions.len();
                    (
                        st,
                        slots.get(st.cond_at..st.cond_at + n).unwrap_or_default(),
                    )
                })
            })
    }
}

/// A context key the set knows: a condition key (with its slot), a key with a documented type, or both.
#[derive(Debug, Clone)]
pub(crate) struct KeyEntry {
    pub folded: crate::context::Folded,
    /// Lowercase.
    pub key: std::borrow::Cow<'static, str>,
    pub slot: Option<usize>,
    pub ty: Option<crate::context::KeyType>,
}

/// What a decision needs of a known context key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct KeyInfo {
    pub slot: Option<usize>,
    pub ty: Option<crate::context::KeyType>,
}

impl KeyEntry {
    pub fn info(&self) -> KeyInfo {
        KeyInfo {
            slot: self.slot,
            ty: self.ty,
        }
    }
}

/// Where a request's context keys go, found by hash.
#[derive(Debug, Clone, Default)]
pub(crate) struct KeyTable {
    /// `None`: the keys collide too much to hash (see [`crate::ir::MAX_PROBE`]); they are scanned.
    buckets: Option<Box<[u32]>>,
    entries: Vec<KeyEntry>,
}

impl KeyTable {
    /// Slot `i` for `keys[i]`, then every key of [`crate::context::KNOWN_KEYS`].
    fn build(keys: Vec<(u64, String)>) -> KeyTable {
        use crate::context::{Folded, KNOWN_KEYS, known_key_type};
        // The documented keys' foldings, computed once per process.
        static KNOWN: std::sync::OnceLock<Vec<Folded>> = std::sync::OnceLock::new();
        let known = KNOWN.get_or_init(|| {
            KNOWN_KEYS
                .iter()
                .map(|(k, _)| Folded::of(k.as_bytes()))
                .collect()
        });
        let mut entries: Vec<KeyEntry> = Vec::with_capacity(keys.len() + KNOWN_KEYS.len());
        entries.extend(
            keys.into_iter()
                .enumerate()
                .map(|(slot, (_, key))| KeyEntry {
                    folded: Folded::of(key.as_bytes()),
                    ty: known_key_type(&key),
                    key: key.into(),
                    slot: Some(slot),
                }),
        );
        let condition_keys = entries.len();
        for ((k, ty), folded) in KNOWN_KEYS.iter().zip(known) {
            if !entries.iter().take(condition_keys).any(|e| e.key == *k) {
                entries.push(KeyEntry {
                    folded: *folded,
                    key: std::borrow::Cow::Borrowed(k),
                    slot: None,
                    ty: Some(*ty),
                });
            }
        }
        KeyTable {
            buckets: buckets(entries.iter().map(|e| e.folded.hash()), entries.len()),
            entries,
        }
    }

    /// The entry of `key` in any case.
    #[inline]
    pub fn get_any_case(&self, key: &str) -> Option<&KeyEntry> {
        let k = crate::context::KeyText::of(key.as_bytes());
        let hash = k.hash();
        let is = |e: &KeyEntry| e.folded.is(&k, e.key.as_bytes());
        match &self.buckets {
            Some(b) => {
                let i = probe(b, hash, |i| self.entries.get(i).is_some_and(is))?;
                self.entries.get(i)
            }
            None => self.entries.iter().find(|e| is(e)),
        }
    }
}

/// For each action the set names literally (lowercase), which statements' `Action`/`NotAction` match it (one
/// bit per statement id, `NotAction` already applied); for any other action, the bits that do not depend on it.
///
/// What a decision on an action the set names reads comes first, in the order given, and starts a cache line, then
/// what one on another action reads: a cold decision reads the index through one or two lines, not one per field.
#[derive(Debug, Clone, Default)]
#[repr(C, align(64))]
pub(crate) struct ActionIndex {
    /// Whether the set has an index: `false` for the empty one a set too large to index keeps.
    on: bool,
    buckets: Box<[u32]>,
    /// `(folded, lowercase action)`.
    entries: Box<[(crate::context::Folded, Box<[u8]>)]>,
    /// Per entry, what its action meets (see [`crate::lower::Plan`]); their ids and gates in `plan_arena`.
    plans: Box<[crate::lower::Plan]>,
    pub plan_arena: crate::lower::Plans,
    /// The statements by id, lowered for the fast path.
    pub lowered: crate::lower::Lowered,
    /// An action the set never names: `*` patterns and all-literal `NotAction`s match it, all-literal `Action`s
    /// do not; the bits of `wild` statements are clear, to be computed from the patterns.
    pub unknown: [u64; MASK_WORDS],
    /// The `wild` statements, matched against an action the set never names.
    pub wild: WildActions,
    /// `MASK_WORDS` words per entry.
    masks: Vec<[u64; MASK_WORDS]>,
    /// Each statement id's place: its policy and index there.
    pub by_id: Vec<(PolicyRef, usize)>,
    /// The statements of each gate, one bit per id (see [`Gates`]).
    pub gates: Gates,
}

/// Statement masks for the fast path of `decide`: which statements deny, which allow unconditionally, and which
/// belong to each gate.
#[derive(Debug, Clone, Default)]
pub(crate) struct Gates {
    /// Deny statements, RCPs excepted.
    pub deny: [u64; MASK_WORDS],
    /// Deny statements of RCPs (they apply only to the services RCPs govern).
    pub rcp_deny: [u64; MASK_WORDS],
    pub allow: [u64; MASK_WORDS],
    /// Allow statements that apply to every request their action matches.
    pub unconditional_allow: [u64; MASK_WORDS],
    /// One mask per SCP level.
    pub scps: Vec<[u64; MASK_WORDS]>,
    pub identity: [u64; MASK_WORDS],
    pub resource: Option<[u64; MASK_WORDS]>,
    pub boundary: Option<[u64; MASK_WORDS]>,
    pub session: Option<[u64; MASK_WORDS]>,
    pub endpoint: Option<[u64; MASK_WORDS]>,
}

/// Set bit `id` of `m`.
pub(crate) fn set_bit(m: &mut [u64; MASK_WORDS], id: usize) {
    if let Some(w) = m.get_mut(id / 64) {
        *w |= 1 << (id % 64);
    }
}

impl Gates {
    /// The Deny statements, RCPs' too when `rcps`.
    pub fn denies(&self, rcps: bool) -> [u64; MASK_WORDS] {
        std::array::from_fn(|k| {
            let d = self.deny.get(k).copied().unwrap_or(0);
            let r = self.rcp_deny.get(k).copied().unwrap_or(0);
            if rcps { d | r } else { d }
        })
    }

    /// The statements of `gate`; `None` for a gate the set lacks.
    pub fn of(&self, gate: crate::rules::Gate) -> Option<&[u64; MASK_WORDS]> {
        use crate::rules::Gate;
        match gate {
            Gate::Scp(l) => self.scps.get(l),
            Gate::Identity => Some(&self.identity),
            Gate::Resource => self.resource.as_ref(),
            Gate::Boundary => self.boundary.as_ref(),
            Gate::Session => self.session.as_ref(),
            Gate::Endpoint => self.endpoint.as_ref(),
        }
    }

    /// Every gate's statements in `lower::gate_ordinal` order (`None` for a gate the set lacks).
    fn in_order(&self) -> Vec<Option<&[u64; MASK_WORDS]>> {
        use crate::rules::Gate;
        let n = self.scps.len();
        (0..n)
            .map(Gate::Scp)
            .chain([
                Gate::Identity,
                Gate::Resource,
                Gate::Boundary,
                Gate::Session,
                Gate::Endpoint,
            ])
            .enumerate()
            .map(|(k, g)| {
                debug_assert_eq!(crate::lower::gate_ordinal(g, n), k);
                self.of(g)
            })
            .collect()
    }

    fn build(inner: &Inner) -> Gates {
        let present = |b: bool| b.then_some([0; MASK_WORDS]);
        let mut g = Gates {
            scps: vec![[0; MASK_WORDS]; inner.scps.len()],
            resource: present(inner.resource.is_some()),
            boundary: present(inner.boundary.is_some()),
            session: present(!inner.session.is_empty()),
            endpoint: present(inner.endpoint.is_some()),
            ..Gates::default()
        };
        let mut next_id = 0usize;
        for (at, p) in inner.policies() {
            let first = next_id;
            next_id += p.statements.len();
            let ids = || (first..).zip(p.statements.iter());
            let gate = match at {
                PolicyRef::Scp(l, _) => g.scps.get_mut(l),
                // RCPs only deny: they are no gate.
                PolicyRef::Rcp(..) => None,
                PolicyRef::Resource => g.resource.as_mut(),
                PolicyRef::Identity(_) => Some(&mut g.identity),
                PolicyRef::Boundary => g.boundary.as_mut(),
                PolicyRef::Session(_) => g.session.as_mut(),
                PolicyRef::Endpoint => g.endpoint.as_mut(),
            };
            if let Some(m) = gate {
                ids().for_each(|(id, _)| set_bit(m, id));
            }
            for (id, st) in ids() {
                match st.effect {
                    Effect::Deny if matches!(at, PolicyRef::Rcp(..)) => {
                        set_bit(&mut g.rcp_deny, id)
                    }
                    Effect::Deny => set_bit(&mut g.deny, id),
                    Effect::Allow => {
                        set_bit(&mut g.allow, id);
                        if st.unconditional {
                            set_bit(&mut g.unconditional_allow, id);
                        }
                    }
                }
            }
        }
        g
    }
}

impl ActionIndex {
    /// The index of `inner`'s `statements` statements; `None` when matching the wildcard patterns against the
    /// actions the set names would take more than [`ActionIndex::BUDGET`] matches (the decision then matches each
    /// statement's patterns itself).
    fn build(inner: &Inner, statements: usize) -> Option<ActionIndex> {
        debug_assert!(statements <= MASK_WORDS * 64);
        let mut entries: Vec<(crate::context::Folded, Box<[u8]>)> = Vec::new();
        let mut index_of: crate::map::Map<&[u8], usize> = crate::map::Map::new();
        let mut wild_patterns = 0usize;
        for (st, _) in inner.statements() {
            for a in &st.actions {
                match a.glob().as_literal() {
                    // INVARIANT: only well-formed actions have entries, so a request whose action finds one is
                    // well-formed (`Input::well_formed`); a request naming a malformed literal is refused anyway.
                    Some(l) if !crate::shape::action_ok(l) => {}
                    Some(l) => {
                        index_of.entry(l.as_bytes()).or_insert_with(|| {
                            entries.push((
                                crate::context::Folded::of(l.as_bytes()),
                                l.as_bytes().into(),
                            ));
                            entries.len() - 1
                        });
                    }
                    None if st.wild => wild_patterns += 1,
                    None => {}
                }
            }
        }
        if entries.len().saturating_mul(wild_patterns) > Self::BUDGET {
            return None;
        }
        // Per statement, which named actions its patterns match (`hit`), then its bit in each of their masks.
        let mut masks = vec![[0u64; MASK_WORDS]; entries.len()];
        let mut hit = vec![false; entries.len()];
        for (id, (st, _)) in inner.statements().enumerate() {
            hit.iter_mut().for_each(|h| *h = st.any_action);
            if !st.any_action {
                for a in &st.actions {
                    match a.glob().as_literal() {
                        Some(l) => {
                            if let Some(h) =
                                index_of.get(l.as_bytes()).and_then(|&i| hit.get_mut(i))
                            {
                                *h = true;
                            }
                        }
                        None => {
                            for (h, (_, action)) in hit.iter_mut().zip(&entries) {
                                *h = *h || a.matches_lowercase(action);
                            }
                        }
                    }
                }
            }
            for (m, &h) in masks.iter_mut().zip(&hit) {
                if h != st.not_action {
                    set_bit(m, id);
                }
            }
        }
        let mut unknown = [0; MASK_WORDS];
        for (id, (st, _)) in inner.statements().enumerate() {
            if !st.wild && st.any_action != st.not_action {
                set_bit(&mut unknown, id);
            }
        }
        let gates = Gates::build(inner);
        let lowered = crate::lower::Lowered::build(inner.statements())?;
        let mut pb = crate::lower::PlanBuilder::new(&lowered);
        let in_order = gates.in_order();
        let plans = masks
            .iter()
            .zip(&entries)
            .map(|(m, (_, action))| {
                pb.plan(
                    m,
                    (&gates.deny, &gates.rcp_deny),
                    (&gates.allow, &gates.unconditional_allow),
                    &in_order,
                    std::str::from_utf8(action).is_ok_and(crate::rules::rcp_governs),
                )
            })
            .collect::<Option<Vec<_>>>()?;
        let by_id = inner
            .policies()
            .flat_map(|(at, p)| (0..p.statements.len()).map(move |i| (at, i)))
            .collect();
        Some(ActionIndex {
            on: true,
            buckets: buckets(entries.iter().map(|e| e.0.hash()), entries.len())?,
            entries: entries.into(),
            masks,
            plans: plans.into(),
            plan_arena: pb.finish(),
            unknown,
            wild: WildActions::build(
                inner
                    .statements()
                    .enumerate()
                    .filter(|(_, (s, _))| s.wild)
                    .map(|(id, (s, _))| (id, s)),
            ),
            by_id,
            lowered,
            gates,
        })
    }

    /// The most pattern matches building an index may take (a few tens of milliseconds).
    const BUDGET: usize = 1 << 22;

    /// The entry of `action` (any case), when the set names it.
    #[inline]
    pub fn find(&self, action: &str) -> Option<usize> {
        let b = action.as_bytes();
        let k = crate::context::KeyText::of(b);
        probe(&self.buckets, k.hash(), |i| {
            self.entries.get(i).is_some_and(|(f, e)| f.is(&k, e))
        })
    }

    /// Entry `i`'s mask and plan.
    #[inline]
    pub fn entry(&self, i: usize) -> Option<(&[u64; MASK_WORDS], &crate::lower::Plan)> {
        self.masks.get(i).zip(self.plans.get(i))
    }
}

/// The statements whose `Action`/`NotAction` patterns have wildcards, as an action the set never names is matched
/// against them: patterns that are literal or a literal then `*` (the usual `service:*`, `s3:Get*`) as lowercase
/// texts in one arena, compared as `Pattern::matches` compares those shapes (ASCII case folded); a statement with
/// any other pattern keeps its patterns.
#[derive(Debug, Clone, Default)]
pub(crate) struct WildActions {
    pub statements: Vec<WildStatement>,
    /// `(offset, length, whether a prefix)` of each text in `bytes`.
    texts: Vec<(u32, u32, bool)>,
    bytes: Vec<u8>,
}

/// A statement of [`WildActions`].
#[derive(Debug, Clone)]
pub(crate) struct WildStatement {
    pub id: usize,
    pub not_action: bool,
    /// Its patterns as texts: `texts[start..end]`.
    texts: (u32, u32),
    /// Its patterns, when one is of another shape.
    general: Option<Box<[ActionPattern]>>,
}

impl WildActions {
    /// The `wild` statements, with their ids.
    fn build<'a>(statements: impl Iterator<Item = (usize, &'a CStatement)>) -> WildActions {
        let mut w = WildActions::default();
        for (id, st) in statements {
            let (from, bytes_from) = (w.texts.len(), w.bytes.len());
            let flat = st.actions.iter().all(|a| {
                let g = a.glob();
                let Some((t, prefix)) = g
                    .as_literal()
                    .map(|t| (t, false))
                    .or_else(|| g.as_prefix().map(|t| (t, true)))
                else {
                    return false;
                };
                match (u32::try_from(w.bytes.len()), u32::try_from(t.len())) {
                    (Ok(at), Ok(len)) => {
                        w.bytes.extend_from_slice(t.as_bytes());
                        w.texts.push((at, len, prefix));
                        true
                    }
                    _ => false,
                }
            });
            if !flat {
                w.texts.truncate(from);
                w.bytes.truncate(bytes_from);
            }
            let span = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
            w.statements.push(WildStatement {
                id,
                not_action: st.not_action,
                texts: (span(from), span(w.texts.len())),
                general: (!flat).then(|| st.actions.clone().into_boxed_slice()),
            });
        }
        w
    }

    /// Whether statement `st`'s patterns match `action` (any case; before `NotAction` applies).
    #[inline]
    pub fn matches(&self, st: &WildStatement, action: &str) -> bool {
        if let Some(ps) = &st.general {
            return ps.iter().any(|a| a.matches(action));
        }
        let a = action.as_bytes();
        let texts = self
            .texts
            .get(st.texts.0 as usize..st.texts.1 as usize)
            .unwrap_or_default();
        texts.iter().any(|&(at, len, prefix)| {
            let t = self
                .bytes
                .get(at as usize..at as usize + len as usize)
                .unwrap_or_default();
            let head = if prefix { a.get(..t.len()) } else { Some(a) };
            head.is_some_and(|h| crate::context::eq_lower(h, t))
        })
    }
}

/// Every policy that applies to a request, compiled. Immutable, `Send + Sync`, cheap to clone.
///
/// ```
/// use iamgate::{Policy, PolicySet, Request, Decision};
/// let allow = Policy::parse(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
///     "Action":"sagemaker:CreatePresignedDomainUrl","Resource":"*"}]}"#).unwrap();
/// let set = PolicySet::builder().identity(allow).build().unwrap();
/// let req = Request::new("sagemaker:CreatePresignedDomainUrl",
///     "arn:aws:sagemaker:eu-west-1:111122223333:user-profile/d-abc123/alice")
///     .principal("arn:aws:iam::111122223333:role/DataSci");
/// assert_eq!(set.decide(&req), Decision::Allow);
/// ```
#[derive(Debug, Clone, Default)]
pub struct PolicySet {
    pub(crate) inner: Arc<Inner>,
}

/// A policy given to a [`PolicySetBuilder`]: parsed, or already compiled (and then shared, not recompiled).
#[derive(Debug, Clone)]
enum Given {
    Parsed(Policy),
    Compiled(CompiledPolicy),
}

impl Given {
    fn compile(
        self,
        at: PolicyRef,
        resource: ResourceKind,
    ) -> Result<CompiledPolicy, CompileError> {
        match self {
            Given::Parsed(p) => CompiledPolicy::compile_as(p, at, resource),
            Given::Compiled(c) => c.placed_at(at, resource),
        }
    }
}

/// Collects policies for a [`PolicySet`]: parsed ones, compiled when the set is built, or compiled ones
/// ([`CompiledPolicy`]), shared with every other set that uses them. [`PolicySet::edit`] starts from a set's
/// compiled policies, to swap or add one without recompiling the others.
#[derive(Debug, Default)]
pub struct PolicySetBuilder {
    identity: Vec<Given>,
    resource: Option<Given>,
    boundary: Option<Given>,
    session: Vec<Given>,
    scps: Vec<Vec<Given>>,
    rcps: Vec<Vec<Given>>,
    endpoint: Option<Given>,
    endpoint_kind: EndpointKind,
    resource_kind: ResourceKind,
}

impl PolicySetBuilder {
    /// Add an identity-based policy (attached to the principal, inline or managed).
    pub fn identity(mut self, p: Policy) -> Self {
        self.identity.push(Given::Parsed(p));
        self
    }
    /// Add a compiled identity-based policy, shared.
    pub fn identity_compiled(mut self, p: CompiledPolicy) -> Self {
        self.identity.push(Given::Compiled(p));
        self
    }
    /// Set the resource-based policy of the resource.
    pub fn resource(self, p: Policy) -> Self {
        self.resource_as(p, ResourceKind::Resource)
    }
    /// Set the role trust policy of the role that the request (`sts:AssumeRole*`) names: it has no `Resource`,
    /// and it must itself allow (docs/SEMANTICS.md §4.1).
    pub fn trust_policy(self, p: Policy) -> Self {
        self.resource_as(p, ResourceKind::Trust)
    }
    /// Set the key policy of the KMS key that the request names: it must itself allow, and an Allow for the
    /// account delegates to IAM policies (docs/SEMANTICS.md §4.1).
    pub fn key_policy(self, p: Policy) -> Self {
        self.resource_as(p, ResourceKind::Key)
    }
    /// Set the resource-based policy with its kind (see [`PolicySetBuilder::resource`],
    /// [`PolicySetBuilder::trust_policy`], [`PolicySetBuilder::key_policy`]).
    pub fn resource_as(mut self, p: Policy, kind: ResourceKind) -> Self {
        self.resource = Some(Given::Parsed(p));
        self.resource_kind = kind;
        self
    }
    /// Set the principal's permissions boundary.
    pub fn boundary(mut self, p: Policy) -> Self {
        self.boundary = Some(Given::Parsed(p));
        self
    }
    /// Set the principal's permissions boundary, compiled and shared.
    pub fn boundary_compiled(mut self, p: CompiledPolicy) -> Self {
        self.boundary = Some(Given::Compiled(p));
        self
    }
    /// Add a session policy.
    pub fn session(mut self, p: Policy) -> Self {
        self.session.push(Given::Parsed(p));
        self
    }
    /// Add one SCP level (root, then each OU, then the account); every level must allow.
    pub fn scp_level(mut self, level: impl IntoIterator<Item = Policy>) -> Self {
        self.scps
            .push(level.into_iter().map(Given::Parsed).collect());
        self
    }
    /// Add one SCP level of compiled policies, shared.
    pub fn scp_level_compiled(mut self, level: impl IntoIterator<Item = CompiledPolicy>) -> Self {
        self.scps
            .push(level.into_iter().map(Given::Compiled).collect());
        self
    }
    /// Add one RCP level; each level implicitly carries `RCPFullAWSAccess`, so RCPs can only deny.
    pub fn rcp_level(mut self, level: impl IntoIterator<Item = Policy>) -> Self {
        self.rcps
            .push(level.into_iter().map(Given::Parsed).collect());
        self
    }
    /// Set the policy of the VPC endpoint the request came through (an interface endpoint unless
    /// [`PolicySetBuilder::endpoint_kind`] says otherwise).
    pub fn endpoint(mut self, p: Policy) -> Self {
        self.endpoint = Some(Given::Parsed(p));
        self
    }
    /// Set the VPC endpoint's policy, compiled and shared; `None` for none.
    pub fn endpoint_compiled(mut self, p: Option<CompiledPolicy>) -> Self {
        self.endpoint = p.map(Given::Compiled);
        self
    }
    /// Say which kind of VPC endpoint the endpoint policy belongs to (docs/SEMANTICS.md §1.6): in a gateway
    /// endpoint's policy an account principal means only the account's root user.
    pub fn endpoint_kind(mut self, kind: EndpointKind) -> Self {
        self.endpoint_kind = kind;
        self
    }

    /// Compile what is not compiled yet and build the set, with its action index (the fast path of a set that
    /// decides many requests). Every error of every policy is collected (see [`CompileError::errors`]).
    pub fn build(self) -> Result<PolicySet, CompileError> {
        self.build_as(false)
    }

    /// [`PolicySetBuilder::build`] for a set that decides once or a few times: the action index is built on
    /// its second decision, not before (the first walks the policies). The same decisions.
    pub fn build_lazy(self) -> Result<PolicySet, CompileError> {
        self.build_as(true)
    }

    fn build_as(self, lazy: bool) -> Result<PolicySet, CompileError> {
        let plain = ResourceKind::Resource;
        let mut errors: Vec<CompileError> = Vec::new();
        let mut keep = |r: Result<CompiledPolicy, CompileError>| match r {
            Ok(c) => Some(c),
            Err(e) => {
                errors.extend(e.flatten());
                None
            }
        };
        let mut inner = Inner::default();
        for (l, level) in self.scps.into_iter().enumerate() {
            let mut out = Vec::with_capacity(level.len());
            for (j, p) in level.into_iter().enumerate() {
                out.extend(keep(p.compile(PolicyRef::Scp(l, j), plain)));
            }
            inner.scps.push(out);
        }
        for (l, level) in self.rcps.into_iter().enumerate() {
            let mut out = Vec::with_capacity(level.len());
            for (j, p) in level.into_iter().enumerate() {
                out.extend(keep(p.compile(PolicyRef::Rcp(l, j), plain)));
            }
            inner.rcps.push(out);
        }
        let kind = self.resource_kind;
        inner.resource = self
            .resource
            .and_then(|p| keep(p.compile(PolicyRef::Resource, kind)));
        inner.resource_kind = kind;
        inner.endpoint_kind = self.endpoint_kind;
        for (i, p) in self.identity.into_iter().enumerate() {
            inner
                .identity
                .extend(keep(p.compile(PolicyRef::Identity(i), plain)));
        }
        inner.boundary = self
            .boundary
            .and_then(|p| keep(p.compile(PolicyRef::Boundary, plain)));
        for (i, p) in self.session.into_iter().enumerate() {
            inner
                .session
                .extend(keep(p.compile(PolicyRef::Session(i), plain)));
        }
        inner.endpoint = self
            .endpoint
            .and_then(|p| keep(p.compile(PolicyRef::Endpoint, plain)));
        if let Some(e) = CompileError::gather(errors) {
            return Err(e);
        }
        Ok(PolicySet {
            inner: Arc::new(inner.intern(lazy)),
        })
    }
}

impl PolicySet {
    /// An empty builder: add the policies of each place, then [`PolicySetBuilder::build`] compiles them once.
    /// A set built from no policy at all denies every request implicitly (no identity policy allows).
    ///
    /// ```
    /// use iamgate::{Decision, PolicySet, Request};
    /// let set = PolicySet::builder().build().unwrap();
    /// assert_eq!(set.decide(&Request::new("s3:GetObject", "arn:aws:s3:::b/k")), Decision::ImplicitDeny);
    /// ```
    pub fn builder() -> PolicySetBuilder {
        PolicySetBuilder::default()
    }

    /// A builder holding this set's compiled policies (shared, not copied) and kinds: swap or add a policy,
    /// then build; only what was given parsed is compiled.
    ///
    /// ```
    /// use iamgate::{Policy, PolicySet, PolicyRef};
    /// let p = |s: &str| Policy::parse(s).unwrap();
    /// let base = PolicySet::builder()
    ///     .identity(p(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#))
    ///     .build().unwrap();
    /// let bounded = base.edit()
    ///     .boundary(p(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#))
    ///     .build().unwrap();
    /// let shared = |s: &PolicySet| s.get(PolicyRef::Identity(0)).unwrap().clone();
    /// assert!(shared(&base).shares(&shared(&bounded)));
    /// ```
    pub fn edit(&self) -> PolicySetBuilder {
        let i = &self.inner;
        let given = |p: &CompiledPolicy| Given::Compiled(p.clone());
        PolicySetBuilder {
            identity: i.identity.iter().map(given).collect(),
            resource: i.resource.as_ref().map(given),
            boundary: i.boundary.as_ref().map(given),
            session: i.session.iter().map(given).collect(),
            scps: i
                .scps
                .iter()
                .map(|l| l.iter().map(given).collect())
                .collect(),
            rcps: i
                .rcps
                .iter()
                .map(|l| l.iter().map(given).collect())
                .collect(),
            endpoint: i.endpoint.as_ref().map(given),
            endpoint_kind: i.endpoint_kind,
            resource_kind: i.resource_kind,
        }
    }

    /// Every policy with its place, in evaluation order: SCPs, RCPs, resource, identity, boundary, session,
    /// endpoint.
    pub fn policies(&self) -> impl Iterator<Item = (PolicyRef, &CompiledPolicy)> {
        self.inner.policies()
    }

    /// The policy at `at`, if the set has one there.
    pub fn get(&self, at: PolicyRef) -> Option<&CompiledPolicy> {
        let i = &self.inner;
        match at {
            PolicyRef::Identity(n) => i.identity.get(n),
            PolicyRef::Resource => i.resource.as_ref(),
            PolicyRef::Boundary => i.boundary.as_ref(),
            PolicyRef::Session(n) => i.session.get(n),
            PolicyRef::Scp(l, j) => i.scps.get(l).and_then(|v| v.get(j)),
            PolicyRef::Rcp(l, j) => i.rcps.get(l).and_then(|v| v.get(j)),
            PolicyRef::Endpoint => i.endpoint.as_ref(),
        }
    }

    /// A copy of this set with another endpoint policy (or none), an interface endpoint's: the same
    /// identity-side policies decided through a different endpoint. The compiled policies are shared, not
    /// copied; the set's tables are rebuilt, its action index on its second decision (as
    /// [`PolicySetBuilder::build_lazy`]).
    pub fn with_endpoint(&self, endpoint: Option<CompiledPolicy>) -> PolicySet {
        let i = &self.inner;
        if endpoint.is_none() && i.endpoint.is_none() {
            // Nothing to swap: the same policies, already compiled (bulk callers ask for this per step).
            return self.clone();
        }
        PolicySet {
            inner: Arc::new(
                Inner {
                    scps: i.scps.clone(),
                    rcps: i.rcps.clone(),
                    resource: i.resource.clone(),
                    identity: i.identity.clone(),
                    boundary: i.boundary.clone(),
                    session: i.session.clone(),
                    endpoint,
                    resource_kind: i.resource_kind,
                    // The endpoints of a network are interface endpoints (the SageMaker API and Studio).
                    endpoint_kind: EndpointKind::Interface,
                    ..Inner::default()
                }
                .intern(true),
            ),
        }
    }

    /// Whether at least one SCP level was given ([`PolicySetBuilder::scp_level`]); if so, every level must allow
    /// (docs/SEMANTICS.md §4.1).
    pub fn has_scps(&self) -> bool {
        !self.inner.scps.is_empty()
    }

    /// The kind of VPC endpoint the set's endpoint policy belongs to.
    pub fn endpoint_kind(&self) -> EndpointKind {
        self.inner.endpoint_kind
    }

    /// What the set's resource-based policy is.
    pub fn resource_kind(&self) -> ResourceKind {
        self.inner.resource_kind
    }
}

/// Compile a single endpoint policy, for [`PolicySet::with_endpoint`].
pub(crate) fn compile_endpoint_policy(p: Policy) -> Result<CompiledPolicy, CompileError> {
    CompiledPolicy::compile(p, PolicyRef::Endpoint)
}

/// Sets cut down for the analyses (`crate::analyse`), which decide a class of requests on the statements that can
/// apply to it.
impl PolicySet {
    /// This set with each policy's statements replaced by `statements(k, at, policy)` (`k` counts the policies in
    /// the order of [`PolicySet::policies`]), renumbered from 0 in the order given. Every policy keeps its place,
    /// so that reasons name the same policies; built lazily (such a set decides once).
    pub(crate) fn with_statements(
        &self,
        mut statements: impl FnMut(usize, PolicyRef, &CompiledPolicy) -> Vec<CStatement>,
    ) -> PolicySet {
        let i = &*self.inner;
        let mut k = 0usize;
        let mut cut = |at: PolicyRef, p: &CompiledPolicy| {
            let mut list = statements(k, at, p);
            k += 1;
            let mut cond_at = 0;
            for (n, st) in list.iter_mut().enumerate() {
                st.index = n;
                st.cond_at = cond_at;
                cond_at += st.conditions.len();
            }
            CompiledPolicy {
                policy: p.policy.clone(),
                statements: Statements(list.into()),
                kind: p.kind,
            }
        };
        let mut inner = Inner {
            endpoint_kind: i.endpoint_kind,
            resource_kind: i.resource_kind,
            ..Inner::default()
        };
        // INVARIANT: the same order as `Inner::policies`, which numbers `k`.
        for (l, level) in i.scps.iter().enumerate() {
            let level = level.iter().enumerate();
            inner
                .scps
                .push(level.map(|(j, p)| cut(PolicyRef::Scp(l, j), p)).collect());
        }
        for (l, level) in i.rcps.iter().enumerate() {
            let level = level.iter().enumerate();
            inner
                .rcps
                .push(level.map(|(j, p)| cut(PolicyRef::Rcp(l, j), p)).collect());
        }
        inner.resource = i.resource.as_ref().map(|p| cut(PolicyRef::Resource, p));
        for (n, p) in i.identity.iter().enumerate() {
            inner.identity.push(cut(PolicyRef::Identity(n), p));
        }
        inner.boundary = i.boundary.as_ref().map(|p| cut(PolicyRef::Boundary, p));
        for (n, p) in i.session.iter().enumerate() {
            inner.session.push(cut(PolicyRef::Session(n), p));
        }
        inner.endpoint = i.endpoint.as_ref().map(|p| cut(PolicyRef::Endpoint, p));
        PolicySet {
            inner: Arc::new(inner.intern(true)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::MAX_PROBE;
    use crate::policy::pattern::NoVars;

    fn parsed(text: &str) -> Policy {
        Policy::parse(text).unwrap()
    }

    const IDENTITY: &str = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":"sagemaker:CreatePresignedDomainUrl","Resource":"*",
         "Condition":{"StringEquals":{"aws:SourceVpce":"vpce-1"},"IpAddress":{"aws:VpcSourceIp":"10.0.0.0/8"}}},
        {"Effect":"Deny","Action":"sagemaker:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}"#;
    const ENDPOINT: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*",
        "Action":"sagemaker:*","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalAccount":"111122223333"},
        "IpAddress":{"aws:VpcSourceIp":"10.1.0.0/16"}}}]}"#;
    const BOUNDARY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sagemaker:*",
        "Resource":"*","Condition":{"StringEquals":{"aws:SourceVpce":"vpce-1"}}}]}"#;
    const SCP: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},
        {"Effect":"Deny","Action":"*","Resource":"*","Condition":{"NotIpAddress":{"aws:VpcSourceIp":"10.1.2.0/24"}}}]}"#;

    /// Requests over the keys the policies above test, present or not: `(action, context)`.
    fn requests() -> Vec<(&'static str, Vec<(&'static str, &'static str)>)> {
        let mut out = Vec::new();
        for action in [
            "sagemaker:CreatePresignedDomainUrl",
            "sagemaker:DescribeDomain",
            "s3:GetObject",
        ] {
            for vpce in [None, Some("vpce-1"), Some("vpce-2")] {
                for ip in [None, Some("10.1.2.3"), Some("10.1.9.9"), Some("10.2.0.1")] {
                    for tls in [None, Some("true"), Some("false")] {
                        let context = [
                            ("aws:SourceVpce", vpce),
                            ("aws:VpcSourceIp", ip),
                            ("aws:SecureTransport", tls),
                            ("aws:PrincipalAccount", Some("111122223333")),
                        ]
                        .into_iter()
                        .filter_map(|(k, v)| Some((k, v?)))
                        .collect();
                        out.push((action, context));
                    }
                }
            }
        }
        out
    }

    const RESOURCE: &str = "arn:aws:sagemaker:eu-west-1:111122223333:user-profile/d-1/alice";
    const PRINCIPAL: &str = "arn:aws:iam::111122223333:role/R";

    fn owned(action: &str, context: &[(&str, &str)]) -> crate::Request {
        let mut ctx = crate::Context::new();
        for (k, v) in context {
            ctx = ctx.with(k, *v).unwrap();
        }
        crate::Request::new(action, RESOURCE)
            .principal(PRINCIPAL)
            .context(ctx)
    }

    /// Two sets decide alike, explanations included, on [`requests`], owned and borrowed.
    fn same_decisions(a: &PolicySet, b: &PolicySet) {
        for (action, context) in requests() {
            let r = owned(action, &context);
            assert_eq!(a.decide(&r), b.decide(&r), "{r:?}");
            assert_eq!(a.explain(&r), b.explain(&r), "{r:?}");
            let values: Vec<(&str, crate::ValueRef<'_>)> = context
                .iter()
                .map(|&(k, v)| (k, crate::ValueRef::One(v)))
                .collect();
            let borrowed = crate::RequestRef {
                principal: Some(PRINCIPAL),
                action,
                resource: RESOURCE,
                context: &values,
                ..crate::RequestRef::default()
            };
            assert_eq!(a.decide_ref(&borrowed), b.decide_ref(&borrowed), "{r:?}");
            assert_eq!(a.decide_ref(&borrowed), Ok(a.decide(&r)), "{r:?}");
        }
    }

    /// A set composed of compiled policies (with `with_endpoint`, `edit`) shares them, and decides as the set
    /// built from the parsed policies.
    #[test]
    fn composed_sets_share_policies_and_decide_alike() {
        let identity = CompiledPolicy::compile(parsed(IDENTITY), PolicyRef::Identity(0)).unwrap();
        let endpoint = compile_endpoint_policy(parsed(ENDPOINT)).unwrap();
        let base = PolicySet::builder()
            .identity_compiled(identity.clone())
            .identity(parsed(BOUNDARY))
            .build()
            .unwrap();
        let through = base.with_endpoint(Some(endpoint.clone()));
        for set in [&base, &through] {
            assert!(set.get(PolicyRef::Identity(0)).unwrap().shares(&identity));
        }
        assert!(through.get(PolicyRef::Endpoint).unwrap().shares(&endpoint));
        let fresh = PolicySet::builder()
            .identity(parsed(IDENTITY))
            .identity(parsed(BOUNDARY))
            .endpoint(parsed(ENDPOINT))
            .build()
            .unwrap();
        same_decisions(&through, &fresh);
        // Swap back: the same decisions as without an endpoint.
        same_decisions(&through.with_endpoint(None), &base);
        // A boundary and an SCP level added to the composed set: only they are compiled.
        let edited = through
            .edit()
            .boundary(parsed(BOUNDARY))
            .scp_level([parsed(SCP)])
            .build()
            .unwrap();
        assert!(
            edited
                .get(PolicyRef::Identity(0))
                .unwrap()
                .shares(&identity)
        );
        assert!(edited.get(PolicyRef::Endpoint).unwrap().shares(&endpoint));
        let fresh = PolicySet::builder()
            .scp_level([parsed(SCP)])
            .identity(parsed(IDENTITY))
            .identity(parsed(BOUNDARY))
            .boundary(parsed(BOUNDARY))
            .endpoint(parsed(ENDPOINT))
            .build()
            .unwrap();
        same_decisions(&edited, &fresh);
        // The composed sets number statements and slots in their own tables: an SCP level ahead moves every id.
        assert_eq!(
            edited
                .inner
                .placed(PolicyRef::Identity(0))
                .id(&identity.statements[0]),
            2
        );
        assert_eq!(
            through
                .inner
                .placed(PolicyRef::Identity(0))
                .id(&identity.statements[0]),
            0
        );
    }

    /// A compiled policy given at a place of another kind is compiled afresh for it, with that kind's rules.
    #[test]
    fn compiled_policy_of_another_kind_is_recompiled() {
        let identity = CompiledPolicy::compile(parsed(IDENTITY), PolicyRef::Identity(0)).unwrap();
        let e = PolicySet::builder()
            .endpoint_compiled(Some(identity.clone()))
            .build()
            .unwrap_err();
        assert_eq!(e.policy, PolicyRef::Endpoint);
        assert_eq!(e.diagnostic.code, "missing-principal");
        let boundary = PolicySet::builder()
            .boundary_compiled(identity.clone())
            .build()
            .unwrap();
        assert!(!boundary.get(PolicyRef::Boundary).unwrap().shares(&identity));
    }

    /// A lazy set indexes its actions on its second decision, not before, and decides as an eager one.
    #[test]
    fn lazy_set_indexes_on_its_second_decision() {
        let build = |b: PolicySetBuilder, lazy: bool| if lazy { b.build_lazy() } else { b.build() };
        let builder = || {
            PolicySet::builder()
                .identity(parsed(IDENTITY))
                .endpoint(parsed(ENDPOINT))
        };
        let eager = build(builder(), false).unwrap();
        assert!(eager.inner.indexed());
        let (action, context) = requests().swap_remove(20);
        let r = owned(action, &context);
        let lazy = build(builder(), true).unwrap();
        assert!(!lazy.inner.indexed());
        assert_eq!(lazy.decide(&r), eager.decide(&r));
        assert!(!lazy.inner.indexed());
        assert_eq!(lazy.decide(&r), eager.decide(&r));
        assert!(lazy.inner.indexed());
        assert!(lazy.inner.actions().is_some());
        same_decisions(&build(builder(), true).unwrap(), &eager);
    }

    /// A condition key's slot is the same wherever the key is tested, whether the set's keys are few (found in
    /// their list) or many (found through a map): 40 keys, in two policies, each in both of them.
    #[test]
    fn cold_slots_shared_by_equal_keys_few_or_many() {
        for n in [3usize, 16, 17, 40] {
            let conds: Vec<String> = (0..n).map(|i| format!(r#""test:key{i}":"v""#)).collect();
            let policy = |keys: &[String]| {
                Policy::parse(&format!(
                    r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Action":"*","Resource":"*","Condition":{{"StringEquals":{{{}}}}}}}}}"#,
                    keys.join(",")
                ))
                .unwrap()
            };
            let mut reversed = conds.clone();
            reversed.reverse();
            let set = PolicySet::builder()
                .identity(policy(&conds))
                .identity(policy(&reversed))
                .build_lazy()
                .unwrap();
            let slots = &set.inner.slots;
            assert_eq!(slots.len(), 2 * n);
            let (first, second) = slots.split_at(n);
            // The first policy gives keys 0..n their slots in order; the second, reversed, finds the same ones.
            assert_eq!(first, (0..n as u32).collect::<Vec<_>>());
            assert_eq!(second, (0..n as u32).rev().collect::<Vec<_>>());
        }
    }

    /// Every error of a set is collected, in the order of its policies and statements; the first stays where
    /// callers read it.
    #[test]
    fn compile_error_collects_every_error() {
        let with_principal = r#"{"Version":"2012-10-17","Statement":[
            {"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"},
            {"Effect":"Allow","Action":"s3:GetObject","Resource":"*"},
            {"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"*"}]}"#;
        let e = PolicySet::builder()
            .scp_level([parsed(IDENTITY)])
            .identity(parsed(with_principal))
            .identity(parsed(IDENTITY))
            .endpoint(parsed(IDENTITY))
            .build()
            .unwrap_err();
        let all: Vec<(PolicyRef, &str, u32)> = e
            .errors()
            .map(|e| (e.policy, e.diagnostic.code, e.diagnostic.span.start))
            .collect();
        let codes: Vec<(PolicyRef, &str)> = all.iter().map(|&(p, c, _)| (p, c)).collect();
        assert_eq!(
            codes,
            [
                (PolicyRef::Identity(0), "principal-not-allowed"),
                (PolicyRef::Identity(0), "principal-not-allowed"),
                (PolicyRef::Endpoint, "missing-principal"),
                (PolicyRef::Endpoint, "missing-principal"),
            ]
        );
        assert!(all.first().unwrap().2 < all.get(1).unwrap().2);
        assert_eq!(e.policy, PolicyRef::Identity(0));
        assert_eq!(
            e.to_string(),
            format!("identity[0]: {}", e.diagnostic.message)
        );
        assert!(e.others.iter().all(|o| o.others.is_empty()));
    }

    /// Colliding hashes: up to `MAX_PROBE` + 1 entries on one bucket build and are all found; more refuse to
    /// build; a lookup for an absent key stops within `MAX_PROBE` buckets.
    #[test]
    fn bucket_tables_bound_their_probes() {
        let fits = buckets(std::iter::repeat_n(5u64, MAX_PROBE + 1), MAX_PROBE + 1).unwrap();
        for i in 0..=MAX_PROBE {
            assert_eq!(probe(&fits, 5, |j| j == i), Some(i));
        }
        let mut looked = 0;
        assert_eq!(
            probe(&fits, 5, |_| {
                looked += 1;
                false
            }),
            None
        );
        assert!(looked <= MAX_PROBE + 1);
        assert!(buckets(std::iter::repeat_n(5u64, MAX_PROBE + 2), MAX_PROBE + 2).is_none());
        // Ordinary keys build: 10,000 decimal numbers.
        assert!(
            buckets(
                (0..10_000u64).map(crate::context::key_hash_words_test),
                10_000
            )
            .is_some()
        );
    }

    /// Keys scanned instead of hashed (a table that would not build) are found alike, in any case.
    #[test]
    fn key_table_without_buckets_scans() {
        let keys: Vec<(u64, String)> = ["aws:sourcevpce", "aws:principaltag/team", "my:key"]
            .iter()
            .map(|k| (crate::context::key_hash(k.as_bytes()), k.to_string()))
            .collect();
        let hashed = KeyTable::build(keys);
        let scanned = KeyTable {
            buckets: None,
            ..hashed.clone()
        };
        for k in [
            "AWS:SourceVpce",
            "aws:PrincipalTag/Team",
            "MY:KEY",
            "aws:SourceIp",
            "absent:key",
        ] {
            let a = hashed.get_any_case(k).map(|e| (&e.key, e.slot, e.ty));
            let b = scanned.get_any_case(k).map(|e| (&e.key, e.slot, e.ty));
            assert_eq!(a, b, "{k}");
            assert_eq!(a.is_some(), k != "absent:key", "{k}");
        }
    }

    /// A hashed set of literal values answers as the scan of their patterns, for every list length around the
    /// threshold, values with `*`, `?`, case and length variants, and values that are not in the list.
    #[test]
    fn literal_set_answers_as_the_scan() {
        let alphabet: Vec<char> = "aA*?-:/0é".chars().collect();
        let mut next = crate::xorshift(0x2545_f491_4f6c_dd1d);
        for n in 0..40 {
            let mut word = || -> String {
                let len = (next() % 12) as usize;
                (0..len)
                    .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                    .collect()
            };
            let values: Vec<String> = (0..n).map(|_| word()).collect();
            let ps: Vec<Pattern> = values
                .iter()
                .map(|v| Pattern::parse(v, false, true))
                .collect();
            let set = LiteralSet::of(&ps);
            assert_eq!(set.is_some(), n >= LiteralSet::MIN, "{n}");
            let probes: Vec<String> = values
                .iter()
                .flat_map(|v| {
                    [
                        v.clone(),
                        v.to_uppercase(),
                        format!("{v}a"),
                        v.chars().skip(1).collect(),
                    ]
                })
                .chain((0..50).map(|_| word()))
                .collect();
            for probe in probes {
                let scan = ps
                    .iter()
                    .any(|p| p.matches(&probe, &NoVars, false) == Some(true));
                if let Some(set) = &set {
                    assert_eq!(set.contains(&probe), scan, "{probe:?} in {values:?}");
                }
                assert_eq!(scan, values.contains(&probe));
            }
        }
        // A value with a policy variable is not literal: no set.
        let mut ps: Vec<Pattern> = (0..10)
            .map(|i| Pattern::parse(&format!("v{i}"), false, true))
            .collect();
        ps.push(Pattern::parse("${aws:username}", false, true));
        assert!(LiteralSet::of(&ps).is_none());
    }
}
