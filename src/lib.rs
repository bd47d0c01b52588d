#![doc = include_str!("../README.md")]
// Every public item says what it means for a caller; CI's clippy (`-D warnings`) fails on one that does not.
#![warn(missing_docs)]

// The stages and which way they depend: a module imports only the leaves and the stages before it in this order.
//   leaves: span, limits, bytes, keys (the condition-key catalog), rules (AWS rules several stages read), traps
//   (the docs/SEMANTICS.md §7 registry), suggest, diagnostic
//   parse -> policy (AST, FromStr leaf types, PolicyKind) -> validate, refuse -> shape -> context -> ir -> lower
//   -> compile -> decide -> analyse -> network (derive -> step -> findings -> report) -> bundle -> api (case, lint,
//   set, flow) -> cli, whatif
// ir holds the compiled statements that compile builds and lower reads, so those two import it, not each other:
// no two stages import each other (tests/it/layout.rs).

pub mod analyse;
pub mod api;
pub mod bundle;
mod bytes;
#[cfg(feature = "cli")]
pub mod cli;
pub mod compile;
pub mod context;
pub mod decide;
mod decimal;
pub mod diagnostic;
/// The Case reader and decider that `iamgate batch` runs, under its old name: it is [`api::case`] now, part of the
/// one JSON boundary. This path stays for one release.
#[deprecated(note = "use `iamgate::api::case`: the Case boundary is part of `api` now")]
pub mod ffi {
    pub use crate::api::case::{
        self, Case, CaseError, DecisionRecord, decide_case, resource_kind_of,
    };
}
/// Internals for the fuzz targets, benches and integration tests: not an API (the `internals` feature).
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod internals;
mod ir;
pub mod keys;
pub mod limits;
mod lower;
mod map;
pub mod network;
pub mod parse;
pub mod policy;
pub(crate) mod refuse;
pub(crate) mod rules;
pub(crate) mod shape;
mod sort;
pub mod span;
mod suggest;
pub mod traps;
mod unicase;
pub mod validate;
#[cfg(feature = "cli")]
pub(crate) mod whatif;

/// The error of a set whose policies cannot be used where they were given: the first, with every other one
/// (see [`CompileError::errors`]).
pub use compile::CompileError;
pub use compile::{CompiledPolicy, PolicyRef, PolicySet, PolicySetBuilder};
/// The error of a context value that its key's documented type refuses (an `aws:SourceIp` that is not an
/// address).
pub use context::ContextError;
pub use context::{Context, ContextValue, Request, RequestRef, Scalar, ValueRef};
pub use decide::{Decision, Explanation, KeyLayout, Reason};
pub use diagnostic::{Diagnostic, Severity};
pub use limits::Limits;
/// The error of a policy document that does not parse or breaks the grammar, with its span.
pub use policy::PolicyError;
pub use policy::{Policy, PolicyKind, UnknownPolicyKind};
pub use span::Span;

/// A xorshift generator from `seed` (not zero): the unit tests' source of random texts, deterministic.
#[cfg(test)]
pub(crate) fn xorshift(mut seed: u64) -> impl FnMut() -> u64 {
    move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    }
}
