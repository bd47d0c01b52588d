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
use crate::policy::{ConditionValue, Policy, Principal, Statement};
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
        let mut cond_at = 0;
        // Collected straight into the shared slice (a mapped slice iterator has an exact length: one allocation,
        // where a `Vec` turned into an `Arc<[_]>` is two and a copy). A statement with an error leaves an empty
        // one in its place, and the errors discard the whole.
        let statements: Arc<[CStatement]> = policy
            .statements
            .iter()
            .map(|st| match compile_statement(st, at, variables, trust) {
                Ok(mut c) => {
                    c.cond_at = cond_at;
                    cond_at += c.conditions.len();
                    c
                }
                Err(d) => {
                    errors.push(fail(d));
                    refused(st.index)
                }
            })
            .collect();
        if let Some(e) = CompileError::gather(errors) {
            return Err(e);
        }
        Ok(CompiledPolicy {
            policy: Arc::new(policy),
            statements: Statements(statements),
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

/// The place of a statement with an error in a policy being compiled, which the error discards: matches nothing.
fn refused(index: usize) -> CStatement {
    CStatement {
        index,
        cond_at: 0,
        wild: false,
        sid: None,
        effect: crate::policy::Effect::Deny,
        principal: None,
        not_action: false,
        actions: Vec::new(),
        not_resource: false,
        resources: Vec::new(),
        conditions: Vec::new(),
        services: 0,
        any_action: false,
        any_resource: false,
        unconditional: false,
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
        // A value's pattern is a slice of the policy's text when the value is one (no copy).
        let patterns = |wildcards: bool| -> Vec<Pattern> {
            c.values
                .iter()
                .map(|v| match &v.value {
                    ConditionValue::String(t) | ConditionValue::Number(t) => {
                        Pattern::parse_within(t, t, wildcards, vars)
                    }
                    ConditionValue::Bool(_) => Pattern::parse(v.value.text(), wildcards, vars),
                })
                .collect()
        };
        let values = match c.operator.value.base.family() {
            Family::String { ignore_case: false } => {
                let ps = patterns(false);
                let set = LiteralSet::of(&ps);
                CValues::Exact(ps, set)
            }
            Family::String { ignore_case: true } => CValues::IgnoreCase(patterns(false)),
            Family::StringLike => CValues::Like(patterns(true)),
            Family::Numeric(_) => CValues::Numeric(texts().map(parse_number).collect()),
            Family::Date(_) => CValues::Date(texts().map(|t| t.parse().ok()).collect()),
            Family::Bool => CValues::Bool(patterns(false)),
            Family::Binary => CValues::Binary(texts().map(decode_base64).collect()),
            Family::Ip => CValues::Ip(Arc::new(
                texts().filter_map(|t| parse_cidr(t).ok()).collect(),
            )),
            Family::Arn => CValues::Arn(
                c.values
                    .iter()
                    .map(|v| match &v.value {
                        ConditionValue::String(t) | ConditionValue::Number(t) => {
                            ArnPattern::parse_text(t, vars)
                        }
                        ConditionValue::Bool(_) => ArnPattern::parse(v.value.text(), vars),
                    })
                    .collect(),
            ),
            Family::Null => CValues::Null {
                when_absent: texts().any(|t| t.eq_ignore_ascii_case("true")),
                when_present: texts().any(|t| t.eq_ignore_ascii_case("false")),
            },
        };
        let (key, hash) = condition_key(&c.key.value);
        conditions.push(CCondition {
            op: c.operator.value,
            hash,
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
        .map(|p| ArnPattern::parse_text(&p.value, variables))
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

/// A condition's key lowercased (ASCII), shared, and its `text_hash`: for a global key of the catalog
/// (`crate::keys::GLOBAL_KEYS`, found by `crate::context::global_place`), this thread's copy of its lowercase text
/// (a count, no allocation: nearly every condition of a real policy names one); for any other key, a copy of its
/// own. One copy per thread, so that no two threads count references to one key.
fn condition_key(text: &str) -> (Arc<str>, u64) {
    thread_local! {
        static SHARED: Vec<Arc<str>> =
            crate::keys::GLOBAL_KEYS.iter().map(|k| Arc::from(k.lower)).collect();
    }
    let (place, hash) = crate::context::global_place(text);
    let known = place.and_then(|p| SHARED.with(|keys| keys.get(p).cloned()));
    (known.unwrap_or_else(|| lowercase_shared(text)), hash)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn compiled(text: &str) -> CompiledPolicy {
        let p = Policy::parse(text).unwrap_or_else(|e| panic!("{e}"));
        CompiledPolicy::compile(p, PolicyRef::Identity(0)).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn cold6_global_condition_keys_are_shared_other_keys_copied() {
        let text = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*",
            "Condition":{"StringEquals":{"AWS:SOURCEVPCE":"v","aws:sourceip":"x","aws:SourceIpX":"y",
            "aws:PrincipalTag/Team":"z","s3:prefix":"p","aws:SourceVpcé":"q"}}}]}"#;
        let (a, b) = (compiled(text), compiled(text));
        let keys = |c: &CompiledPolicy| -> Vec<Arc<str>> {
            c.statements
                .iter()
                .flat_map(|st| st.conditions.iter().map(|c| c.key.clone()))
                .collect()
        };
        let (ka, kb) = (keys(&a), keys(&b));
        let texts: Vec<&str> = ka.iter().map(|k| &**k).collect();
        assert_eq!(
            texts,
            [
                "aws:sourcevpce",
                "aws:sourceip",
                "aws:sourceipx",
                "aws:principaltag/team",
                "s3:prefix",
                "aws:sourcevpcé"
            ]
        );
        // The catalog's keys: one text for both policies; any other key: a copy each.
        let shared: Vec<bool> = ka.iter().zip(&kb).map(|(x, y)| Arc::ptr_eq(x, y)).collect();
        assert_eq!(shared, [true, true, false, false, false, false]);
        // The hash is the lowercase key's, whichever way the key was found.
        for st in a.statements.iter() {
            for c in &st.conditions {
                assert_eq!(
                    c.hash,
                    crate::context::text_hash(c.key.as_bytes()),
                    "{}",
                    c.key
                );
            }
        }
        // Every key of the catalog, in its canonical spelling and in upper case.
        for k in crate::keys::GLOBAL_KEYS {
            for written in [k.name.to_string(), k.name.to_ascii_uppercase()] {
                let (key, hash) = condition_key(&written);
                assert_eq!(&*key, k.lower);
                assert_eq!(hash, crate::context::text_hash(k.lower.as_bytes()));
                assert!(Arc::ptr_eq(&key, &condition_key(k.lower).0), "{written}");
            }
        }
    }

    #[test]
    fn cold6_values_and_resources_are_slices_of_the_policy_text() {
        let text = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*",
            "Resource":["arn:aws:s3:::bucket/${aws:username}/*","arn:aws:s3:::b\/k","arn:aws:sagemaker:*:111122223333:user-profile/d-1/*"],
            "Condition":{"StringLike":{"aws:SourceVpce":["vpce-1*","vpce-\u0032"]},"NumericLessThan":{"s3:max-keys":10},
            "Bool":{"aws:SecureTransport":true},"ArnLike":{"aws:SourceArn":"arn:aws:sns:*:111122223333:t"}}}]}"#;
        let c = compiled(text);
        let source = c.policy().source();
        let inside = |s: &str| {
            let at = s.as_ptr() as usize;
            let base = source.as_ptr() as usize;
            at >= base && at + s.len() <= base + source.len()
        };
        let st = &c.statements[0];
        let mut seen: Vec<(String, bool)> = Vec::new();
        for r in &st.resources {
            match r {
                ArnPattern::Flat(p) => seen.push((p.source().to_string(), inside(p.source()))),
                ArnPattern::Fields(f) => {
                    for p in f.iter() {
                        seen.push((p.source().to_string(), inside(p.source())));
                    }
                }
                other => panic!("{other:?}"),
            }
        }
        for cond in &st.conditions {
            match &cond.values {
                CValues::Like(ps) | CValues::Bool(ps) => {
                    for p in ps {
                        seen.push((p.source().to_string(), inside(p.source())));
                    }
                }
                CValues::Arn(ps) => {
                    for p in ps {
                        if let ArnPattern::Fields(f) = p {
                            for p in f.iter() {
                                seen.push((p.source().to_string(), inside(p.source())));
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        let want: Vec<(&str, bool)> = vec![
            // Written without escapes: slices of the policy's text; with one: a copy, unescaped.
            ("arn:aws:s3:::bucket/${aws:username}/*", true),
            ("arn:aws:s3:::b/k", false),
            ("arn", true),
            ("aws", true),
            ("sagemaker", true),
            ("*", true),
            ("111122223333", true),
            ("user-profile/d-1/*", true),
            ("vpce-1*", true),
            ("vpce-2", false),
            // A JSON boolean has no text of its own to share.
            ("true", false),
            ("arn", true),
            ("aws", true),
            ("sns", true),
            ("*", true),
            ("111122223333", true),
            ("t", true),
        ];
        let got: Vec<(&str, bool)> = seen.iter().map(|(t, i)| (t.as_str(), *i)).collect();
        assert_eq!(got, want);
        // A pattern is the same wherever its text is kept.
        let alone = ArnPattern::parse("arn:aws:s3:::bucket/${aws:username}/*", true);
        assert_eq!(st.resources[0], alone);
        assert_eq!(format!("{:?}", st.resources[0]), format!("{alone:?}"));
    }

    #[test]
    fn cold6_every_statement_error_is_reported_and_none_compiles() {
        // Statements with errors among good ones: one error each, in order, and no policy.
        let p = Policy::parse(
            r#"{"Version":"2012-10-17","Statement":[
            {"Effect":"Allow","Action":"*","Resource":"*"},
            {"Effect":"Allow","Action":"*","Resource":"*","Principal":"*"},
            {"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"}}},
            {"Effect":"Deny","Action":"*","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:root"},"Resource":"*"}]}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let e = CompiledPolicy::compile(p, PolicyRef::Identity(0)).unwrap_err();
        let codes: Vec<&str> = e.errors().map(|e| e.diagnostic.code).collect();
        assert_eq!(codes, ["principal-not-allowed", "principal-not-allowed"]);
        // Without them, the statements compile in order, each condition counted from its policy's first.
        let ok = compiled(
            r#"{"Version":"2012-10-17","Statement":[
            {"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"},"Null":{"aws:SourceVpce":"true"}}},
            {"Effect":"Allow","Action":"s3:GetObject","Resource":"*"},
            {"Effect":"Deny","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}"#,
        );
        let placed: Vec<(usize, usize, usize)> = ok
            .statements
            .iter()
            .map(|st| (st.index, st.cond_at, st.conditions.len()))
            .collect();
        assert_eq!(placed, [(0, 0, 2), (1, 2, 0), (2, 2, 1)]);
    }
}
