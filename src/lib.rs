#![doc = include_str!("../README.md")]

pub mod analyse;
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
pub mod span;
pub mod validate;

pub use compile::{PolicyRef, PolicySet, PolicySetBuilder};
pub use context::{Context, ContextValue, Request, RequestRef, Scalar, ValueRef};
pub use decide::{Decision, Explanation, KeyLayout, Reason};
pub use limits::Limits;
pub use policy::Policy;
