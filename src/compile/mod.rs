//! Compile policies once into an immutable [`PolicySet`]: patterns precompiled, CIDR lists merged into sorted
//! range tables, keys lowercased, values typed. Do not recompile per request: build once, share (it is
//! `Send + Sync` and cheap to clone), decide many.
//!
//! Each concern has its module, in the order compiling meets them:
//!
//! - `place`: where a policy sits ([`PolicyRef`], [`EndpointKind`], [`ResourceKind`]) and how an account in a
//!   `Principal` matches there (`AccountMatch`);
//! - `error`: [`CompileError`], every error of a set gathered;
//! - `policy`: one policy compiled for a kind of place ([`CompiledPolicy`], `compile_statement`);
//! - `keys`: the set's table of context keys (`KeyTable`): each condition key's slot, each documented key's type;
//! - `index`: the set's action index (`ActionIndex`, `Gates`, `WildActions`), what a decision on an action reads;
//! - `set`: [`PolicySet`], [`PolicySetBuilder`] and the set's `Inner`, which places the policies and builds the key
//!   table and the action index from their statements.
//!
//! Each module imports only those before it in this list (tests/it/layout.rs checks it).

mod error;
mod index;
mod keys;
mod place;
mod policy;
mod set;

pub use error::CompileError;
pub(crate) use index::ActionIndex;
pub(crate) use keys::{KeyEntry, KeyInfo};
pub(crate) use place::AccountMatch;
pub use place::{EndpointKind, PolicyRef, ResourceKind};
pub use policy::CompiledPolicy;
pub(crate) use set::{Inner, Placed, compile_endpoint_policy};
pub use set::{Policies, PolicySet, PolicySetBuilder};

pub(crate) use crate::ir::{
    CCondition, CPrincipal, CStatement, CValues, LiteralSet, MASK_WORDS, Statements,
};
