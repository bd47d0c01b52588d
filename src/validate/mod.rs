//! Advice about a parsed policy: Access-Analyzer-style errors and warnings (docs/SEMANTICS.md §1–§3 and §7).
//!
//! [`Policy::parse`] already rejects what no evaluation could use. This module looks for what parses but does
//! not do what its author most likely meant: values that never match, keys that are never in the request,
//! operators that widen an Allow, Denies that lock out VPC-endpoint traffic, and the rules IAM or Organizations
//! enforce when a policy is saved but the parser leaves alone (Sid characters, size, character set).
//!
//! Every finding has a stable kebab-case code, the span of the element it is about and a help text that says
//! what to write instead. Findings are sorted by position. The traps of docs/SEMANTICS.md §7 carry the codes of
//! [`crate::traps`], the same as `presign`'s findings.
//!
//! The checks are split by what they look at: `document` (the whole text), `statement` (its elements),
//! `condition` and `values` (one condition), `variables` (policy variables), `network` (the §7 traps read across a
//! statement), with the key catalog in `keys`. Each adds `impl Validator` methods; `mod.rs` runs them in order.

mod condition;
mod document;
mod keys;
mod network;
mod statement;
mod values;
mod variables;

use crate::diagnostic::Diagnostic;
use crate::policy::Policy;
pub use crate::policy::PolicyKind;

/// Check `policy` as a policy of `kind` and return every finding, sorted by position.
///
/// ```
/// use iamgate::validate::{validate, PolicyKind};
/// let p = iamgate::Policy::parse(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
///   "Action":"sagemaker:CreatePresignedDomainUrl","Resource":"*",
///   "Condition":{"StringEquals":{"aws:SourceVpcID":"vpc-0abc"}}}]}"#).unwrap();
/// let d = validate(&p, PolicyKind::Identity);
/// assert_eq!(d[0].code, "unknown-global-key");
/// assert_eq!(d[0].span.line_col(p.source()), (3, 32));
/// assert!(d[0].help.as_deref().unwrap().starts_with("did you mean `aws:SourceVpc`?"));
/// ```
pub fn validate(policy: &Policy, kind: PolicyKind) -> Vec<Diagnostic> {
    let mut v = Validator {
        policy,
        kind,
        out: Vec::new(),
    };
    v.characters();
    v.size();
    v.document();
    v.sids();
    for st in &policy.statements {
        v.statement(st);
    }
    let mut out = v.out;
    // What IAM or Organizations refuses when the policy is saved (the Sid and date rules are reported above).
    out.extend(
        crate::refuse::refusals(policy, kind)
            .into_iter()
            .filter(|d| {
                !matches!(
                    d.code,
                    "invalid-sid" | "duplicate-sid" | "value-never-matches"
                )
            }),
    );
    crate::sort::stable_by_key(&mut out, |d| (d.span.start, d.span.end));
    out
}

/// A condition key compared as `Condition::key_lower` would be, without making the lowercase copy: lint reads
/// each key several times, and copying it each time cost more than the checks. The names it is compared with are
/// lowercase.
#[derive(Clone, Copy)]
pub(super) struct Lower<'k>(&'k str);

impl<'k> Lower<'k> {
    pub(super) fn of(key: &'k str) -> Lower<'k> {
        Lower(key)
    }

    /// Whether the key is one of `names` (lowercase).
    pub(super) fn is_in(self, names: &[&str]) -> bool {
        names.iter().any(|n| self.0.eq_ignore_ascii_case(n))
    }
}

impl PartialEq<&str> for Lower<'_> {
    /// `other` is lowercase.
    fn eq(&self, other: &&str) -> bool {
        self.0.eq_ignore_ascii_case(other)
    }
}

struct Validator<'p> {
    policy: &'p Policy,
    kind: PolicyKind,
    out: Vec<Diagnostic>,
}

impl Validator<'_> {
    pub(super) fn push(&mut self, d: Diagnostic) {
        self.out.push(d);
    }
}

#[cfg(test)]
mod tests;
