//! Compile policies once into an immutable [`PolicySet`]: patterns precompiled, CIDR lists merged into sorted
//! range tables, keys lowercased, values typed. Do not recompile per request: build once, share (it is
//! `Send + Sync` and cheap to clone), decide many.

use crate::diagnostic::Diagnostic;
use crate::policy::action::ActionPattern;
use crate::policy::arn::ArnPattern;
use crate::policy::operator::{Family, Operator};
use crate::policy::pattern::Pattern;
use crate::policy::value::{CidrSet, Timestamp, decode_base64, parse_cidr, parse_number};
use crate::policy::{Effect, Policy, Principal, PrincipalKind, Statement};
use std::fmt;
use std::sync::Arc;

/// Where a policy sits in a request's evaluation (DESIGN.md: the names used in decisions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PolicyRef {
    Scp(usize, usize),
    Rcp(usize, usize),
    Resource,
    Identity(usize),
    Boundary,
    Session(usize),
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
        matches!(
            self,
            PolicyRef::Resource | PolicyRef::Endpoint | PolicyRef::Rcp(..)
        )
    }
}

/// A policy that cannot be used where it was given.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{policy}: {}", .diagnostic.message)]
pub struct CompileError {
    pub policy: PolicyRef,
    pub source_text: Arc<str>,
    pub diagnostic: Box<Diagnostic>,
}

/// A compiled condition: operator, lowercase key, typed values.
#[derive(Debug, Clone)]
pub(crate) struct CCondition {
    pub op: Operator,
    pub key: String,
    /// `key_hash(key)`.
    pub hash: u64,
    /// The slot of `key` among the distinct keys of the owning set, where a decision caches its lookup.
    // INVARIANT: set by `Inner::intern` whenever a policy enters a `PolicySet`: within a set, two conditions
    // share a slot exactly when they test the same key.
    pub slot: usize,
    pub values: CValues,
}

#[derive(Debug, Clone)]
pub(crate) enum CValues {
    /// StringEquals family: literal patterns (maybe with variables).
    Exact(Vec<Pattern>),
    IgnoreCase(Vec<Pattern>),
    Like(Vec<Pattern>),
    /// `None` for a value that is not a number: it never matches.
    Numeric(Vec<Option<f64>>),
    Date(Vec<Option<Timestamp>>),
    /// Bool values compared case-insensitively with `true`/`false` (variables allowed, §2.3 UNCERTAIN).
    Bool(Vec<Pattern>),
    Binary(Vec<Option<Vec<u8>>>),
    /// Valid CIDRs merged; values that are not CIDRs never match.
    Ip(CidrSet),
    Arn(Vec<ArnPattern>),
    /// `Null: true` matches an absent key, `false` a present one; several values are ORed.
    Null {
        when_absent: bool,
        when_present: bool,
    },
}

#[derive(Debug, Clone)]
pub(crate) enum CPrincipal {
    Any,
    Map(Vec<(PrincipalKind, Vec<String>)>),
}

#[derive(Debug, Clone)]
pub(crate) struct CStatement {
    pub index: usize,
    pub sid: Option<String>,
    pub effect: Effect,
    /// `(negated, pattern)`: Principal / NotPrincipal.
    pub principal: Option<(bool, CPrincipal)>,
    pub not_action: bool,
    pub actions: Vec<ActionPattern>,
    pub not_resource: bool,
    pub resources: Vec<ArnPattern>,
    pub conditions: Vec<CCondition>,
    /// One bit per service the `Action` patterns name (`service_bit`); every bit when a pattern's service has a
    /// wildcard, or for `NotAction`. A request whose service's bit is clear cannot match an action.
    pub services: u64,
    /// An `Action` pattern is `*`: every action matches (before `not_action`).
    pub any_action: bool,
    /// A `Resource` pattern is `*`: every resource matches (before `not_resource`).
    pub any_resource: bool,
}

/// One policy, parsed and compiled.
#[derive(Debug, Clone)]
pub struct CompiledPolicy {
    pub(crate) policy: Policy,
    pub(crate) statements: Vec<CStatement>,
}

impl CompiledPolicy {
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    pub(crate) fn compile(policy: Policy, at: PolicyRef) -> Result<CompiledPolicy, CompileError> {
        let variables = policy.variables_enabled();
        let mut statements = Vec::with_capacity(policy.statements.len());
        for st in &policy.statements {
            statements.push(compile_statement(st, at, variables).map_err(|diagnostic| {
                CompileError {
                    policy: at,
                    source_text: policy.source_arc().clone(),
                    diagnostic: Box::new(diagnostic),
                }
            })?);
        }
        Ok(CompiledPolicy { policy, statements })
    }
}

fn compile_statement(
    st: &Statement,
    at: PolicyRef,
    variables: bool,
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
    let Some(resource) = &st.resource else {
        return Err(Diagnostic::error(
            "missing-resource",
            st.span,
            "the statement has no `Resource` or `NotResource`",
        )
        .with_help("add `\"Resource\": \"*\"` or the ARNs the statement is about"));
    };
    let mut conditions = Vec::with_capacity(st.conditions.len());
    for c in &st.conditions {
        let vars = variables && c.operator.value.base.accepts_variables();
        let texts = || c.values.iter().map(|v| v.value.text());
        let values = match c.operator.value.base.family() {
            Family::String { ignore_case: false } => {
                CValues::Exact(texts().map(|t| Pattern::parse(t, false, vars)).collect())
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
            Family::Ip => CValues::Ip(texts().filter_map(|t| parse_cidr(t).ok()).collect()),
            Family::Arn => CValues::Arn(texts().map(|t| ArnPattern::parse(t, vars)).collect()),
            Family::Null => CValues::Null {
                when_absent: texts().any(|t| t.eq_ignore_ascii_case("true")),
                when_present: texts().any(|t| t.eq_ignore_ascii_case("false")),
            },
        };
        let key = c.key_lower();
        conditions.push(CCondition {
            op: c.operator.value,
            hash: crate::context::key_hash(key.as_bytes()),
            key,
            slot: 0,
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
    Ok(CStatement {
        index: st.index,
        any_action: actions.iter().any(|a| a.glob().is_any()),
        any_resource: resources.iter().any(|r| matches!(r, ArnPattern::Any)),
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
pub(crate) struct Inner {
    pub scps: Vec<Vec<CompiledPolicy>>,
    pub rcps: Vec<Vec<CompiledPolicy>>,
    pub resource: Option<CompiledPolicy>,
    pub identity: Vec<CompiledPolicy>,
    pub boundary: Option<CompiledPolicy>,
    pub session: Vec<CompiledPolicy>,
    pub endpoint: Option<CompiledPolicy>,
}

impl Inner {
    fn policies_mut(&mut self) -> impl Iterator<Item = &mut CompiledPolicy> {
        self.scps
            .iter_mut()
            .chain(self.rcps.iter_mut())
            .flatten()
            .chain(self.resource.iter_mut())
            .chain(self.identity.iter_mut())
            .chain(self.boundary.iter_mut())
            .chain(self.session.iter_mut())
            .chain(self.endpoint.iter_mut())
    }

    /// Give each distinct condition key a slot, where a decision caches its lookup in the request context.
    fn intern(mut self) -> Inner {
        let mut keys: Vec<(u64, String)> = Vec::new();
        for p in self.policies_mut() {
            for c in p
                .statements
                .iter_mut()
                .flat_map(|s| s.conditions.iter_mut())
            {
                c.slot = match keys.iter().position(|(h, k)| *h == c.hash && *k == c.key) {
                    Some(i) => i,
                    None => {
                        keys.push((c.hash, c.key.clone()));
                        keys.len() - 1
                    }
                };
            }
        }
        self
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

/// Collects policies for a [`PolicySet`].
#[derive(Debug, Default)]
pub struct PolicySetBuilder {
    identity: Vec<Policy>,
    resource: Option<Policy>,
    boundary: Option<Policy>,
    session: Vec<Policy>,
    scps: Vec<Vec<Policy>>,
    rcps: Vec<Vec<Policy>>,
    endpoint: Option<Policy>,
}

impl PolicySetBuilder {
    /// Add an identity-based policy (attached to the principal, inline or managed).
    pub fn identity(mut self, p: Policy) -> Self {
        self.identity.push(p);
        self
    }
    /// Set the resource-based policy of the resource.
    pub fn resource(mut self, p: Policy) -> Self {
        self.resource = Some(p);
        self
    }
    /// Set the principal's permissions boundary.
    pub fn boundary(mut self, p: Policy) -> Self {
        self.boundary = Some(p);
        self
    }
    /// Add a session policy.
    pub fn session(mut self, p: Policy) -> Self {
        self.session.push(p);
        self
    }
    /// Add one SCP level (root, then each OU, then the account); every level must allow.
    pub fn scp_level(mut self, level: impl IntoIterator<Item = Policy>) -> Self {
        self.scps.push(level.into_iter().collect());
        self
    }
    /// Add one RCP level; each level implicitly carries `RCPFullAWSAccess`, so RCPs can only deny.
    pub fn rcp_level(mut self, level: impl IntoIterator<Item = Policy>) -> Self {
        self.rcps.push(level.into_iter().collect());
        self
    }
    /// Set the policy of the VPC endpoint the request came through.
    pub fn endpoint(mut self, p: Policy) -> Self {
        self.endpoint = Some(p);
        self
    }

    pub fn build(self) -> Result<PolicySet, CompileError> {
        let c = CompiledPolicy::compile;
        let mut inner = Inner::default();
        for (l, level) in self.scps.into_iter().enumerate() {
            let mut out = Vec::with_capacity(level.len());
            for (j, p) in level.into_iter().enumerate() {
                out.push(c(p, PolicyRef::Scp(l, j))?);
            }
            inner.scps.push(out);
        }
        for (l, level) in self.rcps.into_iter().enumerate() {
            let mut out = Vec::with_capacity(level.len());
            for (j, p) in level.into_iter().enumerate() {
                out.push(c(p, PolicyRef::Rcp(l, j))?);
            }
            inner.rcps.push(out);
        }
        inner.resource = self
            .resource
            .map(|p| c(p, PolicyRef::Resource))
            .transpose()?;
        for (i, p) in self.identity.into_iter().enumerate() {
            inner.identity.push(c(p, PolicyRef::Identity(i))?);
        }
        inner.boundary = self
            .boundary
            .map(|p| c(p, PolicyRef::Boundary))
            .transpose()?;
        for (i, p) in self.session.into_iter().enumerate() {
            inner.session.push(c(p, PolicyRef::Session(i))?);
        }
        inner.endpoint = self
            .endpoint
            .map(|p| c(p, PolicyRef::Endpoint))
            .transpose()?;
        Ok(PolicySet {
            inner: Arc::new(inner.intern()),
        })
    }
}

impl PolicySet {
    pub fn builder() -> PolicySetBuilder {
        PolicySetBuilder::default()
    }

    /// Every policy with its place, in evaluation order: SCPs, RCPs, resource, identity, boundary, session,
    /// endpoint.
    pub fn policies(&self) -> impl Iterator<Item = (PolicyRef, &CompiledPolicy)> {
        let i = &self.inner;
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

    /// A copy of this set with another endpoint policy (or none): the same identity-side policies decided
    /// through a different endpoint.
    pub fn with_endpoint(&self, endpoint: Option<CompiledPolicy>) -> PolicySet {
        let i = &self.inner;
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
                }
                .intern(),
            ),
        }
    }

    pub fn has_scps(&self) -> bool {
        !self.inner.scps.is_empty()
    }
}

/// Compile a single endpoint policy, for [`PolicySet::with_endpoint`].
pub fn compile_endpoint_policy(p: Policy) -> Result<CompiledPolicy, CompileError> {
    CompiledPolicy::compile(p, PolicyRef::Endpoint)
}
