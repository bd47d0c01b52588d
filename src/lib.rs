#![doc = include_str!("../README.md")]

pub mod analyse;
pub mod api;
pub mod bundle;
#[cfg(feature = "cli")]
pub mod cli;
pub mod compile;
pub mod context;
pub mod decide;
pub mod diagnostic;
pub mod ffi;
pub mod limits;
mod lower;
pub mod network;
pub mod parse;
pub mod policy;
pub mod refuse;
pub mod shape;
mod sort;
pub mod span;
mod suggest;
pub mod validate;
#[cfg(feature = "cli")]
pub mod whatif;

/// The error of a set whose policies cannot be used where they were given: the first, with every other one
/// (see [`CompileError::errors`]).
pub use compile::CompileError;
pub use compile::{CompiledPolicy, PolicyRef, PolicySet, PolicySetBuilder};
/// The error of a context value that its key's documented type refuses (an `aws:SourceIp` that is not an
/// address).
pub use context::ContextError;
pub use context::{Context, ContextValue, Request, RequestRef, Scalar, ValueRef};
pub use decide::{Decision, Explanation, KeyLayout, Reason};
pub use limits::Limits;
pub use policy::Policy;
/// The error of a policy document that does not parse or breaks the grammar, with its span.
pub use policy::PolicyError;

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
