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
pub mod span;
mod suggest;
pub mod validate;
#[cfg(feature = "cli")]
pub mod whatif;

pub use compile::{PolicyRef, PolicySet, PolicySetBuilder};
pub use context::{Context, ContextValue, Request, RequestRef, Scalar, ValueRef};
pub use decide::{Decision, Explanation, KeyLayout, Reason};
pub use limits::Limits;
pub use policy::Policy;

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
