//! [`CompileError`]: a policy that cannot be used where it was given, with every other error of the set. Built
//! when a policy is compiled (`policy`) and gathered when a set is built (`set`).

use super::place::PolicyRef;
use crate::diagnostic::Diagnostic;
use std::sync::Arc;

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
    ///
    /// [`PolicySet::policies`]: crate::PolicySet::policies
    pub others: Vec<CompileError>,
}

impl CompileError {
    /// Every error: this one, then [`CompileError::others`].
    pub fn errors(&self) -> impl Iterator<Item = &CompileError> {
        std::iter::once(self).chain(self.others.iter())
    }

    /// One error of many, the first holding the rest; `None` for none.
    pub(super) fn gather(mut all: Vec<CompileError>) -> Option<CompileError> {
        if all.is_empty() {
            return None;
        }
        let mut first = all.remove(0);
        first.others.extend(all);
        Some(first)
    }

    /// This error and its `others`, flat.
    pub(super) fn flatten(mut self) -> Vec<CompileError> {
        let others = std::mem::take(&mut self.others);
        let mut all = Vec::with_capacity(1 + others.len());
        all.push(self);
        all.extend(others);
        all
    }
}
