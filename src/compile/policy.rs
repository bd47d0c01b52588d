//! One policy compiled for a kind of place: [`CompiledPolicy`] and `compile_statement`, which checks each
//! statement against its place (docs/SEMANTICS.md) and precompiles its patterns, CIDR lists and values into the
//! statements of `crate::ir`. A set (`set`) is built from these and shares them.

use super::error::CompileError;
use super::place::{PolicyRef, ResourceKind};
use super::{CCondition, CPrincipal, CStatement, CValues, LiteralSet, Statements};
use crate::diagnostic::Diagnostic;
use crate::policy::PolicyKind;
use crate::policy::action::ActionPattern;
use crate::policy::arn::ArnPattern;
use crate::policy::operator::Family;
use crate::policy::pattern::Pattern;
use crate::policy::value::{decode_base64, parse_cidr, parse_number};
use crate::policy::{Policy, Principal, Statement};
use std::sync::Arc;

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
    pub(super) kind: PolicyKind,
}

impl CompiledPolicy {
    /// The parsed policy it was compiled from, with its source text and spans (shared, not copied).
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Compile `policy` for a place of `at`'s kind (a resource-based policy as an ordinary one: see
    /// [`PolicySetBuilder::resource_as`] for trust and key policies). Every error is collected (see
    /// [`CompileError::errors`]).
    ///
    /// [`PolicySetBuilder::resource_as`]: crate::PolicySetBuilder::resource_as
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
    pub(super) fn placed_at(
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
        let key = lowercase_shared(&c.key.value);
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

/// `text` lowercased (ASCII), in one shared allocation: a condition's key, which the sets that use the policy
/// name in their key tables by a count rather than a copy.
fn lowercase_shared(text: &str) -> Arc<str> {
    let mut shared: Arc<str> = Arc::from(text);
    match Arc::get_mut(&mut shared) {
        Some(s) => s.make_ascii_lowercase(),
        // Not reached: a new `Arc` has one owner. Said all the same, without a panic.
        None => shared = Arc::from(text.to_ascii_lowercase()),
    }
    shared
}
