//! What IAM or Organizations refuses when a policy is saved, by the kind of policy (docs/SEMANTICS.md §1.4, §1.7,
//! §1.12). Such a policy cannot exist in an account, so deciding a request against it would answer a question
//! AWS never faces: [`crate::PolicySet`] refuses to build with one (a compile error), `iamgate batch` answers the
//! case with an error record, and `iamgate lint` reports each as an error.
//!
//! The grammar-level refusals that hold for every kind (an empty `Action`, `Resource` or `Statement` array,
//! `"Resource": ""`, a wildcard in an action's service prefix, a second colon, an empty action name) are the
//! parser's ([`crate::Policy::parse`]); this module holds the ones that depend on the kind.

use crate::diagnostic::Diagnostic;
use crate::policy::PolicyKind;
use crate::policy::operator::Family;
use crate::policy::value::Timestamp;
use crate::policy::{Effect, Policy, Principal, Version};

/// Every refusal of `policy` as a policy of `kind`, in document order. Each is an error whose message says what
/// IAM or Organizations answers and whose help says how to fix it.
pub fn refusals(policy: &Policy, kind: PolicyKind) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    if kind.is_iam() {
        sids(policy, &mut out);
    }
    version(policy, kind, &mut out);
    for st in &policy.statements {
        if kind == PolicyKind::Rcp {
            if st.action.negated {
                out.push(
                    Diagnostic::error(
                        "rcp-notaction",
                        st.action.span,
                        "Organizations refuses `NotAction` in a resource control policy",
                    )
                    .with_help(
                        "RCPs take `Action` only (with Version, Statement, Sid, Effect, Principal, Resource, \
                         NotResource, Condition); list the actions to deny",
                    ),
                );
            }
            if st.effect.value == Effect::Allow && !is_full_access(st) {
                out.push(
                    Diagnostic::error(
                        "rcp-allow",
                        st.effect.span,
                        "Organizations refuses `Allow` in a customer resource control policy",
                    )
                    .with_help(
                        "only the AWS-managed `RCPFullAWSAccess` allows, and it is attached everywhere; write \
                         the statement as a `Deny` of what must not happen",
                    ),
                );
            }
        }
        if kind == PolicyKind::Trust {
            if let Some(p) = st.principal.as_ref().filter(|p| p.negated) {
                out.push(
                    Diagnostic::error(
                        "notprincipal-in-trust-policy",
                        p.span,
                        "IAM refuses `NotPrincipal` in a role trust policy",
                    )
                    .with_help("name the principals that may assume the role in `Principal`"),
                );
            }
            if let Some(r) = &st.resource {
                let name = if r.negated { "NotResource" } else { "Resource" };
                out.push(
                    Diagnostic::error(
                        "trust-policy-resource",
                        r.span,
                        format!("IAM refuses a role trust policy with `{name}` (\"Has prohibited field Resource\")"),
                    )
                    .with_help("remove the element: a trust policy's resource is the role it is attached to"),
                );
            }
        }
        if let Some(r) = &st.resource {
            for p in &r.patterns {
                // Only an S3 ARN can be refused here: the others are not split (0.5k instructions a case).
                if !third_field_is_s3(&p.value) {
                    continue;
                }
                let Some(f) = crate::policy::arn::split(&p.value) else {
                    continue;
                };
                // A bucket or object ARN has neither region nor account; the S3 resources that carry a region
                // (access points, batch jobs, Storage Lens) carry the account too.
                if f[2] == "s3" && !f[3].is_empty() && f[4].is_empty() {
                    out.push(
                        Diagnostic::error(
                            "s3-arn-region",
                            p.span,
                            format!(
                                "IAM refuses the S3 ARN `{}`: a bucket or object ARN \"can not contain region information\"",
                                p.value
                            ),
                        )
                        .with_help("leave the region and account fields empty: `arn:aws:s3:::bucket/key`"),
                    );
                }
            }
        }
        for c in &st.conditions {
            if !matches!(c.operator.value.base.family(), Family::Date(_)) {
                continue;
            }
            for v in &c.values {
                if v.value.text().parse::<Timestamp>().is_err() {
                    out.push(
                        Diagnostic::error(
                            "value-never-matches",
                            v.span,
                            format!(
                                "`{}` is not a date, and IAM refuses a policy whose `{}` value it cannot read as one",
                                v.value.text(),
                                c.operator.value
                            ),
                        )
                        .with_help("write an ISO 8601 date such as `2026-12-31` or `2026-12-31T23:59:59Z`, or epoch seconds"),
                    );
                }
            }
        }
    }
    out
}

/// Whether the third `:`-separated field of `value` is `s3` (the `f[2]` of [`crate::policy::arn::split`]), found
/// without reading past it.
fn third_field_is_s3(value: &str) -> bool {
    let b = value.as_bytes();
    let colon = |from: usize| {
        b.get(from..)
            .and_then(|r| r.iter().position(|&c| c == b':'))
            .map(|k| from + k)
    };
    colon(0)
        .and_then(|a| colon(a + 1))
        .is_some_and(|k| b.get(k + 1..k + 4) == Some(b"s3:"))
}

/// `Allow` `*` on `*` to `*`, no condition: `RCPFullAWSAccess`, which a case may list explicitly.
fn is_full_access(st: &crate::policy::Statement) -> bool {
    let star_principal = st
        .principal
        .as_ref()
        .is_some_and(|p| !p.negated && matches!(p.principal, Principal::Any));
    let star_action =
        !st.action.negated && st.action.patterns.iter().any(|a| a.value.as_str() == "*");
    let star_resource = st
        .resource
        .as_ref()
        .is_some_and(|r| !r.negated && r.patterns.iter().any(|p| &*p.value == "*"));
    star_principal && star_action && star_resource && st.conditions.is_empty()
}

/// §1.4: IAM's Sid rule (alphanumeric, unique).
fn sids(policy: &Policy, out: &mut Vec<Diagnostic>) {
    let mut seen: Vec<&str> = Vec::new();
    for st in &policy.statements {
        let Some(sid) = &st.sid else { continue };
        if !sid.value.chars().all(|c| c.is_ascii_alphanumeric()) {
            let fixed: String = sid
                .value
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .collect();
            out.push(
                Diagnostic::error(
                    crate::traps::INVALID_SID.code,
                    sid.span,
                    format!(
                        "IAM refuses the statement id `{}`: \"Statement IDs (SID) must be alpha-numeric\"",
                        sid.value
                    ),
                )
                .with_help(format!("IAM accepts only `A-Z`, `a-z` and `0-9`; write `{fixed}`")),
            );
        }
        if seen.contains(&&*sid.value) {
            out.push(
                Diagnostic::error(
                    "duplicate-sid",
                    sid.span,
                    format!(
                        "IAM refuses the policy: statement id `{}` is used twice (\"Statement IDs (SID) in a single policy must be unique\")",
                        sid.value
                    ),
                )
                .with_help("rename one of the statements"),
            );
        } else {
            seen.push(&sid.value);
        }
    }
}

/// §1.12: a boundary (a managed policy) and an RCP must name version 2012-10-17.
fn version(policy: &Policy, kind: PolicyKind, out: &mut Vec<Diagnostic>) {
    let version = policy.version.as_ref();
    let current = version.is_some_and(|v| v.value == Version::V2012_10_17);
    match kind {
        PolicyKind::Boundary if !current => out.push(
            Diagnostic::error(
                "boundary-version",
                version.map_or(policy.span, |v| v.span),
                "IAM refuses a managed policy, and so a permissions boundary, without `\"Version\": \"2012-10-17\"` (\"Policy document must be version 2012-10-17 or greater\")",
            )
            .with_help("write `\"Version\": \"2012-10-17\"`"),
        ),
        PolicyKind::Rcp if !current => out.push(
            Diagnostic::error(
                "rcp-version",
                version.map_or(policy.span, |v| v.span),
                "Organizations refuses a resource control policy without `\"Version\": \"2012-10-17\"`",
            )
            .with_help("write `\"Version\": \"2012-10-17\"`"),
        ),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `third_field_is_s3(t)` is `arn::split(t)`'s `f[2] == "s3"` for every text the split makes six fields of (the
    /// only texts the refusal reads): every text of up to eight characters over `:`, `s`, `3`, `a`, and real ARNs.
    #[test]
    fn third_field_is_s3_is_the_split_s_field() {
        let alphabet = [':', 's', '3', 'a'];
        let mut texts = vec![String::new()];
        for _ in 0..8 {
            let longer: Vec<String> = texts
                .iter()
                .filter(|t| t.len() == texts.last().map_or(0, String::len))
                .flat_map(|t| alphabet.iter().map(move |c| format!("{t}{c}")))
                .collect();
            texts.extend(longer);
        }
        let mut s3 = 0;
        for t in texts.iter().chain(&[
            "arn:aws:s3:eu-west-1::bucket".to_owned(),
            "arn:aws:s3:::bucket/key".to_owned(),
            "arn:aws-cn:s3:cn-north-1::x".to_owned(),
            "arn:aws:s33:eu-west-1::x".to_owned(),
            "arn:aws:sagemaker:eu-west-1:111122223333:user-profile/d/a".to_owned(),
        ]) {
            if let Some(f) = crate::policy::arn::split(t) {
                assert_eq!(third_field_is_s3(t), f[2] == "s3", "{t}");
                s3 += usize::from(f[2] == "s3");
            }
        }
        assert!(s3 > 10, "{s3}");
    }
}
