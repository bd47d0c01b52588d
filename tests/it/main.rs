//! Integration tests: the public API as a user would use it, properties, the CLI.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod api;
mod borrowed;
#[path = "../support/cases.rs"]
mod cases;
#[cfg(feature = "cli")]
mod cli;
mod docs;
mod fidelity;
mod hostile;
// The spanned JSON parser, which the `internals` feature makes reachable.
#[cfg(feature = "internals")]
mod json;
mod jsonapi;
mod jsonwriter;
mod layout;
mod network;
#[cfg(feature = "cli")]
mod newuser;
mod properties;
mod reach;
#[cfg(feature = "cli")]
mod readme;
// The fuzz targets' checks, which reach internals.
#[cfg(feature = "internals")]
mod regressions;
#[cfg(feature = "cli")]
mod streams;
#[cfg(feature = "cli")]
mod whatif;
